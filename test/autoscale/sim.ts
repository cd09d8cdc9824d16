/**
 * A fake-clock world for the autoscaling decision: instances become ready `bootMs` after
 * the wanted count asks for them, report every tick what `load` gives them, and scale-in
 * removes the youngest. Nothing here waits: time is a number.
 */
import { decide, type DecisionState, type ScaledInstance } from '../../agents/gateway/autoscale/index.js';
import type { AutoscalePolicy } from '../../agents/gateway/model/index.js';

export interface World {
  /** Reports of one instance at time t given the ready count; undefined: it stays silent. */
  load(t: number, ready: number, id: string): { values: Record<string, number>; busy?: boolean } | undefined;
  bootMs: number;
  /** Instances that never become ready. */
  neverReady?: (id: string) => boolean;
}

export interface Step {
  t: number;
  wanted: number;
  ready: number;
  reason: string;
  changed: boolean;
}

export function simulate(o: {
  policy: AutoscalePolicy;
  min: number;
  max: number;
  wanted: number;
  world: World;
  tickMs: number;
  untilMs: number;
  /** Instances already running at t = 0. */
  ready?: number;
}): Step[] {
  let n = 0;
  const inst: Array<{ id: string; createdAt: number }> = [];
  const add = (t: number, k: number) => {
    for (let j = 0; j < k; j++) inst.push({ id: `i${++n}`, createdAt: t });
  };
  add(-3_600_000, o.ready ?? o.wanted);
  let wanted = o.wanted;
  let state: DecisionState | undefined;
  const steps: Step[] = [];
  for (let t = 0; t <= o.untilMs; t += o.tickMs) {
    if (inst.length < wanted) add(t, wanted - inst.length);
    while (inst.length > wanted) inst.pop();
    const isReady = (i: { id: string; createdAt: number }) =>
      t - i.createdAt >= o.world.bootMs && !o.world.neverReady?.(i.id);
    const ready = inst.filter(isReady).length;
    const view: ScaledInstance[] = inst.map((i) => {
      const r = isReady(i) ? o.world.load(t, ready, i.id) : undefined;
      return {
        id: i.id,
        createdAt: i.createdAt,
        ready: isReady(i),
        ...(r ? { report: { at: t, values: r.values, busy: r.busy ?? false } } : {}),
      };
    });
    const { decision, state: next } = decide(
      { policy: o.policy, min: o.min, max: o.max, wanted, instances: view, now: t },
      state,
    );
    state = next;
    wanted = decision.wanted;
    steps.push({ t, wanted, ready, reason: decision.reason, changed: decision.changed });
  }
  return steps;
}

/** How often the wanted count reversed direction. */
export function reversals(steps: readonly Step[]): number {
  let last = 0;
  let count = 0;
  for (let k = 1; k < steps.length; k++) {
    const d = Math.sign(steps[k]!.wanted - steps[k - 1]!.wanted);
    if (d === 0) continue;
    if (last !== 0 && d !== last) count++;
    last = d;
  }
  return count;
}

export const targetPolicy = (p: Partial<Extract<AutoscalePolicy, { type: 'target' }>> = {}): AutoscalePolicy => ({
  type: 'target',
  metric: 'rps',
  target: 100,
  aggregate: 'average',
  tolerance: 0.1,
  maxStepUp: 10,
  maxStepDown: 1,
  upWindowMs: 0,
  downWindowMs: 300_000,
  staleMs: 90_000,
  paused: false,
  ...p,
});

export const queuePolicy = (p: Partial<Extract<AutoscalePolicy, { type: 'queue' }>> = {}): AutoscalePolicy => ({
  type: 'queue',
  metric: 'queue_length',
  perInstance: 10,
  delayMs: 30_000,
  warmupMs: 120_000,
  idleMs: 120_000,
  maxStepUp: 50,
  maxStepDown: 5,
  upWindowMs: 0,
  downWindowMs: 60_000,
  staleMs: 90_000,
  paused: false,
  ...p,
});
