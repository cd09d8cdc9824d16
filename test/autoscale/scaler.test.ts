/**
 * The engine side of autoscaling over a real (in-memory) gateway model with a fake clock:
 * which decisions become scale jobs and events, that unchanged decisions are not logged,
 * pause/resume/set, a manual scale pausing the policy, and the chat command's replies.
 * Heartbeat reports are handed in directly (what liveness.ts keeps from real heartbeats).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatRouter } from '../../core/index.js';
import {
  autoscaleChatCommand,
  createAutoscaleControl,
  createScaler,
  statusLines,
  type Report,
} from '../../agents/gateway/autoscale/index.js';
import { parseCluster } from '../../agents/gateway/model/index.js';
import { silent } from '../helpers/agents.js';
import { memoryModel } from '../gateway/helpers.js';

const DEF = `[cluster]
name = web

[service.front]
type = scalable
min = 1
max = 10
initial = 2
flavor = small
image = img

[autoscale.front]
policy = target
metric = rps
target = 100
down_window = 1m
`;

function world() {
  const m = memoryModel();
  m.users.add('alice@example.org');
  const d = m.deployments.create('alice@example.org', parseCluster(DEF));
  m.deployments.transition(d.id, 'running');
  m.deployments.transition(d.id, 'completed');
  m.wanted.set(d.id, 'front', 2);
  for (let k = 0; k < 2; k++) {
    const i = m.instances.add({ deploymentId: d.id, service: 'front', cloud: 'c@example.org' });
    m.instances.transition(i.id, 'booting');
    m.instances.transition(i.id, 'running');
    m.instances.heartbeat(i.id, { ready: true });
  }
  const reports = new Map<string, Report>();
  // What liveness does with each heartbeat: keep it, and hand it to the scaler.
  const load = (rps: number) => {
    for (const i of m.instances.list(d.id)) {
      const r = { at: m.clock.t, values: { rps }, busy: false };
      reports.set(i.id, r);
      scaler.heard(i.id, r);
    }
  };
  const kicked: string[] = [];
  const scaler = createScaler({
    model: m,
    report: (id) => reports.get(id),
    kick: (id) => kicked.push(id),
    log: silent,
    intervalMs: 1000,
    now: () => m.clock.t,
  });
  const control = createAutoscaleControl({ model: m, scaler, visible: (_u, id) => m.deployments.require(id) });
  const tick = (rps: number) => {
    m.clock.t += 15_000;
    load(rps);
    return scaler.tick();
  };
  const autoscaleEvents = () => m.events.list(d.id).filter((e) => e.type === 'autoscale');
  return { m, d, scaler, control, tick, kicked, autoscaleEvents };
}

test('a decision that changes the wanted count is a scale job and an event with its reason; others are not logged', () => {
  const { m, d, tick, kicked, autoscaleEvents } = world();
  for (let k = 0; k < 10; k++) assert.deepEqual(tick(100), { decided: 1, changed: 0 });
  assert.equal(autoscaleEvents().length, 0, 'ten decisions at the target, nothing logged');

  assert.deepEqual(tick(400), { decided: 1, changed: 1 });
  assert.equal(m.wanted.get(d.id, 'front'), 8);
  const [ev] = autoscaleEvents();
  assert.equal(
    ev!.message,
    'front: rps average 400 over 2 ready instance(s), target 100: ceil(2 × 400 / 100) = 8: 2 -> 8',
  );
  assert.deepEqual(ev!.data as { from: number; to: number; average: number }, {
    ...(ev!.data as object),
    from: 2,
    to: 8,
    average: 400,
  });
  const job = m.jobs.list(d.id).at(-1)!;
  assert.equal(job.kind, 'scale');
  assert.deepEqual(job.request, { service: 'front', count: 8, from: 2, autoscale: true });
  assert.deepEqual(kicked, [d.id]);

  tick(400);
  assert.equal(autoscaleEvents().length, 1, 'the new instances are still booting: no second decision');
});

test('no decisions while the policy is paused, or for a destroyed deployment', () => {
  const { m, d, tick, control } = world();
  const view = control.pause('alice@example.org', d.id, 'front');
  assert.equal(view.paused, true);
  assert.equal(view.note, 'paused by alice@example.org');
  assert.deepEqual(tick(900), { decided: 0, changed: 0 });
  assert.equal(m.wanted.get(d.id, 'front'), 2);
  control.resume('alice@example.org', d.id, 'front');
  assert.deepEqual(tick(900), { decided: 1, changed: 1 });
  m.deployments.markDestroyed(d.id);
  assert.deepEqual(tick(2000), { decided: 0, changed: 0 });
  assert.deepEqual(
    m.events
      .list(d.id)
      .filter((e) => e.type === 'autoscale')
      .map((e) => e.message.replace(/:.*/, '')),
    ['front', 'front', 'front'],
  );
});

test("a manual scale pauses an active policy once; a policy set later replaces the definition's", () => {
  const { m, d, control, tick } = world();
  const note = control.pauseForManualScale(d, 'front', 'alice@example.org/laptop');
  assert.match(note ?? '', /^autoscaling of front paused by a manual scale from alice@example\.org/);
  assert.equal(control.pauseForManualScale(d, 'front', 'alice@example.org'), undefined, 'already paused');
  assert.equal(control.show('alice@example.org', d.id)[0]!.paused, true);

  const set = control.set(
    'alice@example.org',
    d.id,
    'front',
    'policy = target\nmetric = rps\ntarget = 200\nmax_step_up = 1',
  );
  assert.equal(set.paused, false, 'a new policy is active unless it says paused = true');
  assert.match(set.policy, /^target: rps average at 200 \(±10%\); steps \+1\/-1/);
  tick(800);
  assert.equal(m.wanted.get(d.id, 'front'), 3, 'ceil(2 × 800 / 200) = 8, one step at a time');
  assert.throws(
    () => control.set('alice@example.org', d.id, 'front', 'policy = target\nmetric = rps'),
    /\[autoscale\.front\] target: missing required key/,
  );
});

test('the chat command shows, pauses and sets, and names bad input', async () => {
  const { d, control } = world();
  const chat = new ChatRouter();
  chat.add(autoscaleChatCommand(control, () => true));
  const say = (line: string) =>
    chat.dispatch(line, { from: 'alice@example.org/x', bare: 'alice@example.org', reply: async () => {}, log: silent });
  assert.match(await say(`autoscale ${d.id}`), /^autoscale front: active, target: rps average at 100 \(±10%\)/);
  assert.match(
    await say(`autoscale ${d.id} front pause`),
    /^autoscale front: PAUSED, .* — paused by alice@example\.org$/,
  );
  assert.match(
    await say(`autoscale ${d.id} front stop`),
    /^autoscale: say pause, resume or set after the service, not 'stop'/,
  );
  assert.match(
    await say(`autoscale ${d.id} front set policy=queue metric=q`),
    /autoscale failed: .*\[autoscale\.front\] per_instance: missing required key/,
  );
  assert.match(
    await say(`autoscale ${d.id} front set policy=queue metric=q per_instance=4 source=front`),
    /autoscale front: active, queue: q, 4 per instance/,
  );
  assert.match(await say(`autoscale ${d.id} nosuch pause`), /^autoscale failed: service of \S+ 'nosuch' not found$/);
});

test('instances that come or go between ticks are counted as they are at the next tick', () => {
  const { m, d, scaler, tick } = world();
  const data = () => scaler.latest(d.id, 'front')!.decision.data as { reporting: number; current: number };
  tick(100);
  assert.equal(data().reporting, 2);

  // Leaving: only its events say so (its last report is still there).
  const [gone] = m.instances.list(d.id);
  m.instances.transition(gone!.id, 'draining');
  tick(100);
  assert.equal(data().reporting, 1, 'the draining one is no longer an active instance');

  // Coming: created and moved (events), then ready, which liveness reports with a touch.
  const i = m.instances.add({ deploymentId: d.id, service: 'front', cloud: 'c@example.org' });
  m.instances.transition(i.id, 'booting');
  m.instances.transition(i.id, 'running');
  m.instances.heartbeat(i.id, { ready: true });
  scaler.touch(d.id);
  tick(100);
  assert.equal(data().reporting, 2, 'the new one reports at once');
});

test("chat's status of a deployment shows each policy and the reason of its latest decision, changed or not", () => {
  const { d, control, tick } = world();
  assert.deepEqual(statusLines(control, 'alice@example.org', d), [
    '  autoscale front: active, target: rps average at 100 (±10%); steps +10/-1, windows up 0 s / down 60 s',
  ]);
  tick(100);
  assert.deepEqual(statusLines(control, 'alice@example.org', d), [
    '  autoscale front: active, target: rps average at 100 (±10%); steps +10/-1, windows up 0 s / down 60 s\n' +
      '    last decision: rps average 100 over 2 ready instance(s) is within 10% of 100',
  ]);
  tick(400);
  assert.match(statusLines(control, 'alice@example.org', d)[0]!, /last decision: .*= 8: 2 -> 8$/);
});
