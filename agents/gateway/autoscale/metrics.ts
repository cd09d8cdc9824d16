/** Reading one metric out of reports: fresh ones only (a stale report is a missing one). */
import type { AutoscalePolicy } from '../model/index.js';
import type { Report, ScaledInstance } from './types.js';

export function freshValue(
  policy: AutoscalePolicy,
  report: Report | undefined,
  now: number,
  metric = policy.metric,
): number | undefined {
  if (!report || now - report.at > policy.staleMs) return undefined;
  const v = report.values[metric];
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

/**
 * A service-wide value (a queue length, a total) reported by any of `from`: the largest
 * fresh one, so one reporter behind the others never hides work. Undefined when none.
 */
export function serviceValue(
  policy: AutoscalePolicy,
  from: readonly ScaledInstance[],
  now: number,
): { value: number; reporters: number } | undefined {
  let value: number | undefined;
  let reporters = 0;
  for (const i of from) {
    const v = freshValue(policy, i.report, now);
    if (v === undefined) continue;
    reporters++;
    value = value === undefined ? v : Math.max(value, v);
  }
  return value === undefined ? undefined : { value, reporters };
}

export const fmt = (n: number): string => String(Math.round(n * 100) / 100);
