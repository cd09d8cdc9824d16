/** The autoscaling decision against a fake clock: no timers, no servers, time is a number. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../agents/gateway/autoscale/index.js';
import { queuePolicy, reversals, simulate, targetPolicy, type World } from './sim.js';

const MIN = 60_000;
/** Each ready instance reports an even share of the demand (requests per second). */
const shared = (demand: (t: number) => number, bootMs = 60_000): World => ({
  bootMs,
  load: (t, ready) => ({ values: { rps: ready ? demand(t) / ready : 0 } }),
});

/** A target-tracking run ticking every 15 s between bounds 1 and 20, unless `o` says otherwise. */
const track = (o: Partial<Parameters<typeof simulate>[0]> & { wanted: number; untilMs: number; world: World }) =>
  simulate({ policy: targetPolicy(), min: 1, max: 20, tickMs: 15_000, ...o });

test('step load: scales up on the first tick after the step, to ceil(demand / target), and stays', () => {
  const steps = track({ wanted: 2, untilMs: 20 * MIN, world: shared((t) => (t < 5 * MIN ? 200 : 800)) });
  const at = (t: number) => steps.find((s) => s.t >= t)!;
  assert.ok(
    steps.filter((s) => s.t < 5 * MIN).every((s) => s.wanted === 2),
    'at the target before the step',
  );
  assert.equal(at(5 * MIN).wanted, 8, at(5 * MIN).reason);
  assert.match(
    at(5 * MIN).reason,
    /rps average 400 over 2 ready instance\(s\), target 100: ceil\(2 × 400 \/ 100\) = 8: 2 -> 8/,
  );
  assert.ok(
    steps.filter((s) => s.t >= 5 * MIN).every((s) => s.wanted === 8),
    'no overshoot while the new instances boot, no flapping after',
  );
});

test('a step down waits for the whole down window, then goes one step at a time (max_step_down)', () => {
  const steps = track({
    policy: targetPolicy({ maxStepDown: 2 }),
    wanted: 8,
    untilMs: 30 * MIN,
    world: shared((t) => (t < 10 * MIN ? 800 : 200)),
  });
  const firstDown = steps.find((s) => s.wanted < 8)!;
  assert.ok(
    firstDown.t >= 15 * MIN,
    `no scale-down before the 5 minute window after the drop (went down at ${firstDown.t / 1000} s)`,
  );
  assert.match(firstDown.reason, /max_step_down 2: 8 -> 6/);
  assert.equal(steps.at(-1)!.wanted, 2);
});

test('slow ramp: the wanted count only grows, tracking the demand', () => {
  const steps = track({ max: 50, wanted: 1, untilMs: 60 * MIN, world: shared((t) => 50 + (t / MIN) * 40) });
  assert.equal(reversals(steps), 0);
  assert.ok(
    steps.every((s, k) => k === 0 || s.wanted >= steps[k - 1]!.wanted),
    'never down during a ramp',
  );
  const last = steps.at(-1)!;
  const ideal = Math.ceil((50 + 60 * 40) / 100);
  assert.ok(last.wanted >= ideal - 2 && last.wanted <= ideal + 1, `ends near ${ideal}, got ${last.wanted}`);
});

test('oscillating load around the target: direction changes stay bounded', () => {
  // ±25% around 4 × 100 every 4 minutes: beyond the tolerance band in both directions.
  const steps = track({
    wanted: 4,
    untilMs: 120 * MIN,
    world: shared((t) => 400 * (1 + 0.25 * Math.sin((2 * Math.PI * t) / (4 * MIN)))),
  });
  const changes = steps.filter((s) => s.changed).length;
  assert.ok(reversals(steps) <= 1, `reversals: ${reversals(steps)}`);
  assert.ok(changes <= 3, `changes of the wanted count in 2 hours: ${changes}`);
});

test('within the tolerance band nothing changes', () => {
  const steps = track({ wanted: 4, untilMs: 30 * MIN, world: shared((t) => 400 * (1 + 0.08 * Math.sin(t / MIN))) });
  assert.ok(steps.every((s) => s.wanted === 4 && !s.changed));
});

test('missing and stale reports never cause a scale-down', () => {
  const silent: World = { bootMs: 60_000, load: () => undefined };
  const steps = track({ wanted: 6, untilMs: 30 * MIN, world: silent });
  assert.ok(
    steps.every((s) => s.wanted === 6),
    'no report at all: hold',
  );
  assert.match(steps[0]!.reason, /no fresh rps report/);

  // The two youngest of four report idle; the two silent ones count as at the target:
  // down to 2 (the idle ones go), then no further.
  const half: World = {
    bootMs: 60_000,
    load: (_t, _r, id) => (id === 'i3' || id === 'i4' ? { values: { rps: 0 } } : undefined),
  };
  const h = track({ policy: targetPolicy({ maxStepDown: 10 }), wanted: 4, untilMs: 30 * MIN, world: half });
  assert.equal(h.at(-1)!.wanted, 2);

  // A report older than stale_after is missing.
  const p = targetPolicy({ downWindowMs: 0 });
  const old = decide({
    policy: p,
    min: 1,
    max: 20,
    wanted: 4,
    now: 200_000,
    instances: [{ id: 'a', createdAt: 0, ready: true, report: { at: 100_000, values: { rps: 0 }, busy: false } }],
  });
  assert.equal(old.decision.wanted, 4);
  assert.match(old.decision.reason, /no fresh/);
});

test('instances that never become ready do not make the scaler ask for more and more', () => {
  const world: World = { ...shared(() => 400), neverReady: (id) => id !== 'i1' && id !== 'i2' };
  const steps = track({ max: 50, wanted: 2, untilMs: 60 * MIN, world });
  assert.equal(steps.at(-1)!.wanted, 4, 'ceil(400 / 100), however long the new ones stay unready');
  assert.equal(steps.filter((s) => s.changed).length, 1);
});

test('separate windows: a new spike right after a scale-down is answered at once', () => {
  const steps = track({
    policy: targetPolicy({ maxStepDown: 10 }),
    wanted: 8,
    untilMs: 30 * MIN,
    world: shared((t) => (t < 10 * MIN ? 200 : 900)),
  });
  const down = steps.find((s) => s.wanted < 8)!;
  assert.equal(down.t, 5 * MIN, 'down after the first full window');
  const spike = steps.find((s) => s.t >= 10 * MIN)!;
  assert.equal(spike.wanted, 9, `scaled up on the first tick of the spike: ${spike.reason}`);
});

test('bounds and steps: max, min and max_step_up limit the move and say so', () => {
  const p = targetPolicy({ maxStepUp: 3, downWindowMs: 0 });
  const r = (rps: number, wanted: number, max = 20, min = 1) =>
    decide({
      policy: p,
      min,
      max,
      wanted,
      now: 0,
      instances: Array.from({ length: wanted }, (_, k) => ({
        id: `i${k}`,
        createdAt: -1e6,
        ready: true,
        report: { at: 0, values: { rps }, busy: false },
      })),
    }).decision;
  assert.match(r(1000, 2).reason, /ceil\(2 × 1000 \/ 100\) = 20; limited by max_step_up 3: 2 -> 5/);
  assert.equal(r(1000, 2, 4).wanted, 4);
  assert.match(r(1000, 2, 4).reason, /max 4/);
  assert.equal(r(0, 5, 20, 3).wanted, 4, 'one step down (max_step_down 1)');
  assert.equal(r(0, 3, 20, 3).changed, false, 'at min');
});

test('total aggregate: the largest fresh total over a per-instance target', () => {
  const p = targetPolicy({ aggregate: 'total', target: 50, downWindowMs: 0 });
  const d = decide({
    policy: p,
    min: 0,
    max: 20,
    wanted: 1,
    now: 0,
    instances: [
      { id: 'a', createdAt: 0, ready: true, report: { at: 0, values: { rps: 420 }, busy: false } },
      { id: 'b', createdAt: 0, ready: false },
    ],
  }).decision;
  assert.equal(d.wanted, 9);
  assert.match(d.reason, /ceil\(420 \/ 50\) = 9/);
});

/** 200 jobs of 10 s at t = 0; each ready worker runs one job at a time and reports the queue. */
function jobQueue(jobs: number, jobMs: number, bootMs: number): World {
  let done = 0;
  let lastT = 0;
  let lastReady = 0;
  return {
    bootMs,
    load(t, ready) {
      if (t !== lastT) {
        done = Math.min(jobs, done + (lastReady * (t - lastT)) / jobMs);
        lastT = t;
      }
      lastReady = ready;
      const left = jobs - Math.floor(done);
      const waiting = Math.max(0, left - ready);
      return {
        values: { queue_length: waiting, running: Math.min(1, Math.max(0, left)) > 0 && left > 0 ? 1 : 0 },
        busy: left > 0,
      };
    },
  };
}

test('work queue: waits the delay, starts ceil(waiting / per_instance) once, counts warming ones, back to min when drained', () => {
  const steps = simulate({
    // Warm-up: the 90 s boot plus the time 20 workers need for 200 jobs of 10 s.
    policy: queuePolicy({ busyMetric: 'running', warmupMs: 180_000 }),
    min: 1,
    max: 40,
    wanted: 1,
    tickMs: 10_000,
    untilMs: 30 * MIN,
    world: jobQueue(200, 10_000, 90_000),
  });
  const up = steps.find((s) => s.wanted > 1)!;
  assert.equal(up.t, 30_000, 'after the 30 s delay');
  assert.equal(up.wanted, 21, up.reason);
  assert.match(
    up.reason,
    /queue_length 19\d waiting for 30 s: ceil\(19\d \/ 10\) = 20 needed, 0 warming up, 20 more: 1 -> 21/,
  );
  const peak = Math.max(...steps.map((s) => s.wanted));
  assert.equal(peak, 21, 'no second wave while the first boots and works');
  assert.ok(
    steps.some((s) => s.t > up.t && /waiting .* 20 warming up, 0 more/.test(s.reason)),
    'work still waited, the warming instances were counted',
  );
  assert.equal(steps.at(-1)!.wanted, 1, 'back to min after the queue drained');
  assert.ok(reversals(steps) <= 2, `reversals: ${reversals(steps)}`);
});

test('work queue: an instance that has not reported is booting, never idle; a stale one is not idle either', () => {
  const p = queuePolicy({ idleMs: 0, downWindowMs: 0 });
  const base = { policy: p, min: 0, max: 10, wanted: 3, now: 1_000_000 };
  const head = {
    id: 'q',
    createdAt: 0,
    ready: true,
    report: { at: 1_000_000, values: { queue_length: 0 }, busy: true },
  };
  const d = decide({
    ...base,
    instances: [
      head,
      { id: 'a', createdAt: 0, ready: false },
      { id: 'b', createdAt: 0, ready: true, report: { at: 0, values: { queue_length: 0 }, busy: false } },
    ],
  }).decision;
  assert.equal(d.changed, false, d.reason);
  const e = decide({
    ...base,
    instances: [
      head,
      { id: 'b', createdAt: 0, ready: true, report: { at: 1_000_000, values: { queue_length: 0 }, busy: false } },
    ],
  }).decision;
  assert.equal(e.wanted, 2, e.reason);
});

test('the same input and state give the same decision (no hidden clock)', () => {
  const input = {
    policy: targetPolicy(),
    min: 1,
    max: 20,
    wanted: 2,
    now: 5,
    instances: [{ id: 'a', createdAt: 0, ready: true, report: { at: 5, values: { rps: 300 }, busy: false } }],
  };
  const a = decide(input);
  const b = decide(input);
  assert.deepEqual(a, b);
  assert.equal(a.decision.wanted, 3);
});
