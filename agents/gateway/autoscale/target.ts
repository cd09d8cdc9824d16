/**
 * Target tracking (the Kubernetes HPA rule): desired = ceil(current × metric / target),
 * nothing within the tolerance band. Missing metrics count against the move: on the way
 * up, instances without a fresh report (booting, not ready, silent) add nothing; on the
 * way down, they count as exactly at the target, so they can never make the service look
 * idle.
 */
import type { TargetPolicy } from '../model/index.js';
import { fmt, freshValue, serviceValue } from './metrics.js';
import type { DecisionInput, Recommendation } from './types.js';

export function recommendTarget(p: TargetPolicy, input: DecisionInput): Recommendation {
  const { wanted, now } = input;
  if (p.aggregate === 'total') {
    const v = serviceValue(p, input.sources ?? input.instances, now);
    if (!v) return { reason: `no fresh ${p.metric} report: holding`, data: { metric: p.metric } };
    const ratio = wanted > 0 ? v.value / (wanted * p.target) : v.value > 0 ? Infinity : 1;
    const desired = Math.ceil(v.value / p.target);
    const data = { metric: p.metric, total: v.value, target: p.target, current: wanted, desired };
    if (Math.abs(ratio - 1) <= p.tolerance)
      return {
        wanted,
        reason: `${p.metric} total ${fmt(v.value)} is within ${fmt(p.tolerance * 100)}% of ${wanted} × ${fmt(p.target)}`,
        data,
      };
    return {
      wanted: desired,
      reason: `${p.metric} total ${fmt(v.value)}, target ${fmt(p.target)} per instance: ceil(${fmt(v.value)} / ${fmt(p.target)}) = ${desired}`,
      data,
    };
  }
  const from = input.sources ?? input.instances;
  let sum = 0;
  let k = 0;
  for (const i of from) {
    const v = i.ready ? freshValue(p, i.report, now) : undefined;
    if (v === undefined) continue;
    sum += v;
    k++;
  }
  if (k === 0)
    return { reason: `no fresh ${p.metric} report from a ready instance: holding`, data: { metric: p.metric } };
  const avg = sum / k;
  const ratio = avg / p.target;
  // With another service's metric, that service's average is the scaled service's load.
  const current = input.sources ? wanted : Math.max(wanted, k);
  const missing = input.sources ? 0 : current - k;
  const base = { metric: p.metric, average: avg, reporting: k, missing, target: p.target, current };
  if (Math.abs(ratio - 1) <= p.tolerance) {
    return {
      wanted,
      reason: `${p.metric} average ${fmt(avg)} over ${k} ready instance(s) is within ${fmt(p.tolerance * 100)}% of ${fmt(p.target)}`,
      data: base,
    };
  }
  // Up: the missing add nothing (sum / current); down: they count at the target.
  const adjusted = input.sources ? avg : ratio > 1 ? sum / current : (sum + missing * p.target) / current;
  const desired = Math.ceil((current * adjusted) / p.target - 1e-9);
  const shown = `ceil(${current} × ${fmt(adjusted)} / ${fmt(p.target)}) = ${desired}`;
  const note =
    missing > 0 ? ` (${missing} without a fresh report counted as ${ratio > 1 ? '0' : 'at the target'})` : '';
  return {
    wanted: ratio > 1 ? Math.max(wanted, desired) : Math.min(wanted, desired),
    reason: `${p.metric} average ${fmt(avg)} over ${k} ready instance(s), target ${fmt(p.target)}: ${shown}${note}`,
    data: { ...base, adjusted, desired },
  };
}
