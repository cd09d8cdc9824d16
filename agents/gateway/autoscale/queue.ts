/**
 * Work-queue scaling (CERN's elastiq): the metric counts waiting work. Once work has
 * waited `delay`, start ceil(waiting / per_instance) more instances, minus those still
 * warming up (created less than `warmup` ago, or asked for and not yet created): they
 * will take work soon, and counting them keeps a long boot from causing a second wave.
 * An instance that reports itself idle for `idle`, while nothing waits, is removed. An
 * instance that has not reported yet, or whose report is stale, is never idle.
 */
import type { QueuePolicy } from '../model/index.js';
import { fmt, freshValue, serviceValue } from './metrics.js';
import type { DecisionInput, DecisionState, Recommendation } from './types.js';

export function recommendQueue(p: QueuePolicy, input: DecisionInput, prev: DecisionState | undefined): Recommendation {
  const { wanted, now, instances } = input;
  const idleSince: Record<string, number> = {};
  const v = serviceValue(p, input.sources ?? instances, now);
  if (!v) return { reason: `no fresh ${p.metric} report: holding`, data: { metric: p.metric }, idleSince };
  const waiting = v.value;
  const waitingSince = waiting > 0 ? (prev?.waitingSince ?? now) : undefined;

  for (const i of instances) {
    if (!i.ready) continue;
    const busy = p.busyMetric !== undefined ? freshValue(p, i.report, now, p.busyMetric) : undefined;
    const idle =
      p.busyMetric !== undefined
        ? busy !== undefined && busy <= 0
        : i.report !== undefined && now - i.report.at <= p.staleMs && !i.report.busy;
    if (idle) idleSince[i.id] = prev?.idleSince[i.id] ?? now;
  }
  const data: Record<string, unknown> = { metric: p.metric, waiting, per_instance: p.perInstance, current: wanted };
  const out = { waitingSince, idleSince, data };

  if (waiting > 0) {
    const waited = now - waitingSince!;
    if (waited < p.delayMs)
      return {
        ...out,
        wanted,
        reason: `${fmt(waiting)} waiting for ${fmt(waited / 1000)} s (delay ${fmt(p.delayMs / 1000)} s)`,
      };
    const need = Math.ceil(waiting / p.perInstance);
    const warming =
      instances.filter((i) => now - i.createdAt < p.warmupMs).length + Math.max(0, wanted - instances.length);
    const add = Math.max(0, need - warming);
    Object.assign(data, { need, warming, add });
    return {
      ...out,
      wanted: wanted + add,
      reason: `${p.metric} ${fmt(waiting)} waiting for ${fmt(waited / 1000)} s: ceil(${fmt(waiting)} / ${fmt(p.perInstance)}) = ${need} needed, ${warming} warming up, ${add} more`,
    };
  }
  const removable = Object.values(idleSince).filter((t) => now - t >= p.idleMs).length;
  Object.assign(data, { idle: Object.keys(idleSince).length, removable });
  if (removable === 0)
    return { ...out, wanted, reason: `nothing waiting, no instance idle for ${fmt(p.idleMs / 1000)} s` };
  return {
    ...out,
    wanted: wanted - removable,
    reason: `nothing waiting, ${removable} instance(s) idle for ${fmt(p.idleMs / 1000)} s or more`,
  };
}
