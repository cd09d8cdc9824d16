/** `[autoscale.<service>]` sections of a cluster definition: parsed, defaulted, and every bad key named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigInvalidError } from '../../core/config.js';
import { parseCluster, parsePolicy, type ScalableService } from '../../agents/gateway/model/index.js';

const BASE = `[cluster]
name = c

[service.head]
type = fixed
flavor = small
image = img

[service.w]
type = scalable
min = 1
max = 20
flavor = small
image = img
depends = head
`;

function issues(text: string): string[] {
  try {
    parseCluster(text, 'c.ini');
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError, String(err));
    return err.message.split('\n');
  }
  assert.fail('expected the definition to be rejected');
}

test('a target policy with its defaults, and a queue policy reading another service', () => {
  const t = parseCluster(`${BASE}\n[autoscale.w]\npolicy = target\nmetric = load1\ntarget = 0.7\n`)
    .services[1] as ScalableService;
  assert.deepEqual(t.autoscale, {
    type: 'target',
    metric: 'load1',
    target: 0.7,
    aggregate: 'average',
    tolerance: 0.1,
    maxStepUp: 10,
    maxStepDown: 1,
    upWindowMs: 0,
    downWindowMs: 300_000,
    staleMs: 90_000,
    paused: false,
  });
  const q = parseCluster(
    `${BASE}\n[autoscale.w]\npolicy = queue\nmetric = queue_length\nsource = head\nper_instance = 10\n` +
      'delay = 10s\nwarmup = 1m\nidle = 30s\nbusy_metric = running\nmax_step_down = 5\ndown_window = 20s\n',
  ).services[1] as ScalableService;
  assert.deepEqual(q.autoscale, {
    type: 'queue',
    metric: 'queue_length',
    source: 'head',
    perInstance: 10,
    delayMs: 10_000,
    warmupMs: 60_000,
    idleMs: 30_000,
    busyMetric: 'running',
    maxStepUp: 10,
    maxStepDown: 5,
    upWindowMs: 0,
    downWindowMs: 20_000,
    staleMs: 90_000,
    paused: false,
  });
  assert.deepEqual(JSON.parse(JSON.stringify(q)), q, 'survives JSON (stored that way)');
  assert.equal((parseCluster(BASE).services[1] as ScalableService).autoscale, undefined);
});

test('every problem names its section and key', () => {
  const msg = issues(
    `${BASE}\n[autoscale.w]\npolicy = target\nmetric = 9bad\nper_instance = 3\ntolerance = 2\nmax_step_up = 0\ndown_window = soon\n`,
  );
  const at = (s: string) => msg.find((m) => m.includes(s));
  assert.match(at('metric:')!, /\[autoscale\.w\] metric: '9bad' is not a metric name/);
  assert.match(at('tolerance:')!, /\[autoscale\.w\] tolerance: 2 is above the maximum 1/);
  assert.match(at('max_step_up:')!, /\[autoscale\.w\] max_step_up: 0 is below the minimum 1/);
  assert.match(at('down_window:')!, /\[autoscale\.w\] down_window: expected a duration/);
  const rules = issues(`${BASE}\n[autoscale.w]\npolicy = target\nmetric = load1\nper_instance = 3\n`);
  assert.ok(
    rules.some((m) => /\[autoscale\.w\] target: missing required key/.test(m)),
    rules.join('\n'),
  );
  assert.ok(
    rules.some((m) => /\[autoscale\.w\] per_instance: only for policy = queue/.test(m)),
    rules.join('\n'),
  );
  assert.match(
    issues(`${BASE}\n[autoscale.w]\npolicy = queue\nmetric = q\n`)[0]!,
    /\[autoscale\.w\] per_instance: missing required key/,
  );
  assert.match(
    issues(`${BASE}\n[autoscale.w]\npolicy = queue\nmetric = q\nper_instance = 0\n`)[0]!,
    /per_instance: must be above 0/,
  );
  assert.match(
    issues(`${BASE}\n[autoscale.w]\npolicy = elastic\nmetric = q\n`)[0]!,
    /policy: 'elastic' is not one of target, queue/,
  );
  assert.match(
    issues(`${BASE}\n[autoscale.w]\npolicy = target\nmetric = q\ntarget = 1\nsource = hed\n`)[0]!,
    /source: unknown service 'hed'/,
  );
  assert.match(
    issues(`${BASE}\n[autoscale.w]\npolicy = target\nmetric = q\ntarget = 1\ntarget_value = 2\n`)[0]!,
    /target_value: unknown key/,
  );
});

test('only scalable services autoscale', () => {
  assert.match(
    issues(`${BASE}\n[autoscale.head]\npolicy = target\nmetric = load1\ntarget = 1\n`)[0]!,
    /^c\.ini:\d+ \[autoscale\.head\]: 'head' is a fixed service: only scalable services autoscale$/,
  );
  assert.match(
    issues(`${BASE}\n[autoscale.x]\npolicy = target\nmetric = load1\ntarget = 1\n`)[0]!,
    /\[autoscale\.x\]: no \[service\.x\] to scale/,
  );
});

test('a policy given alone (to change a deployed service) is checked the same way and cannot reach other sections', () => {
  const services = new Map([
    ['head', 'fixed'],
    ['w', 'scalable'],
  ] as const);
  assert.equal(parsePolicy('w', 'policy = queue\nmetric = q\nper_instance = 4', services).type, 'queue');
  assert.throws(
    () => parsePolicy('w', 'policy = target\nmetric = q', services),
    /autoscale \[autoscale\.w\] target: missing required key/,
  );
  assert.throws(
    () =>
      parsePolicy(
        'w',
        'policy = queue\nmetric = q\nper_instance = 4\n[autoscale.head]\npolicy = queue\nmetric = q\nper_instance = 1',
        services,
      ),
    /\[autoscale\.head\]: only keys of \[autoscale\.w\] may be given here/,
  );
  assert.throws(
    () => parsePolicy('w', 'policy = queue\n[cluster]\nname = x', services),
    /\[cluster\]: unknown section/,
  );
});
