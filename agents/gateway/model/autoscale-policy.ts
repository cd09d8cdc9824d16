/**
 * Autoscaling policies of scalable services, written in a cluster definition as one
 * `[autoscale.<service>]` section (see the README's "Autoscaling"):
 *
 *   - `policy = target`: keep `metric` at `target`, averaged over the service's ready
 *     instances (`aggregate = average`), or as a total divided by a per-instance target
 *     (`aggregate = total`): desired = ceil(current × metric / target), nothing done
 *     within `tolerance` of the target (the Kubernetes HPA rule);
 *   - `policy = queue`: `metric` counts waiting work; after work waited `delay`, start
 *     ceil(waiting / per_instance) more instances, counting those younger than `warmup`
 *     as already serving; an instance idle for `idle` is removed (CERN's elastiq).
 *
 * Both take bounds per decision (`max_step_up`, `max_step_down`) and a stabilization
 * window per direction (`up_window`, `down_window`): a move goes to the lowest
 * recommendation of the up window, or the highest of the down window.
 */
import { conf, ConfigInvalidError, parseConfig, type ConfigIssue } from '../../../core/index.js';

const { bool, duration, enumOf, FieldProblem, field, int, num, sections, str } = conf;

export const BUILTIN_METRICS = ['load1', 'mem_used_pct', 'disk_used_pct'] as const;
const METRIC = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

interface PolicyBase {
  /** A built-in metric (load1, mem_used_pct, disk_used_pct) or a name scripts emit. */
  readonly metric: string;
  /** The service whose instances report the metric (default: the scaled service). */
  readonly source?: string;
  readonly maxStepUp: number;
  readonly maxStepDown: number;
  readonly upWindowMs: number;
  readonly downWindowMs: number;
  /** A report older than this is missing. */
  readonly staleMs: number;
  /** Stored paused: the policy decides nothing until resumed. */
  readonly paused: boolean;
}
export interface TargetPolicy extends PolicyBase {
  readonly type: 'target';
  readonly target: number;
  readonly aggregate: 'average' | 'total';
  /** Relative band around the target with no action (0.1 = ±10%). */
  readonly tolerance: number;
}
export interface QueuePolicy extends PolicyBase {
  readonly type: 'queue';
  readonly perInstance: number;
  readonly delayMs: number;
  readonly warmupMs: number;
  readonly idleMs: number;
  /** Metric that counts an instance's running work (0 = idle); without it, the heartbeat's busy flag. */
  readonly busyMetric?: string;
}
export type AutoscalePolicy = TargetPolicy | QueuePolicy;

const metricName = (opts: { optional: true } | Record<string, never> = {}) =>
  field<string>(
    'metric',
    (raw) => {
      if (!METRIC.test(raw))
        throw new FieldProblem(
          `'${raw}' is not a metric name (letters, digits, '_', '.', '-', starting with a letter or '_')`,
        );
      return raw;
    },
    opts,
  );

/** Keys of an `[autoscale.<service>]` section (core/config.ts fields). */
export const autoscaleFields = {
  policy: enumOf(['target', 'queue']),
  metric: metricName(),
  source: str({ optional: true, pattern: /^[A-Za-z][A-Za-z0-9_-]*$/ }),
  target: num({ optional: true }),
  aggregate: enumOf(['average', 'total'], { optional: true }),
  tolerance: num({ min: 0, max: 1, optional: true }),
  per_instance: num({ optional: true }),
  delay: duration({ min: 0, optional: true }),
  warmup: duration({ min: 0, optional: true }),
  idle: duration({ min: 0, optional: true }),
  busy_metric: metricName({ optional: true }),
  max_step_up: int({ min: 1, default: 10 }),
  max_step_down: int({ min: 1, default: 1 }),
  up_window: duration({ min: 0, default: '0s' }),
  down_window: duration({ min: 0, default: '5m' }),
  stale_after: duration({ min: 1000, default: '90s' }),
  paused: bool({ default: false }),
};

type Raw = {
  policy: 'target' | 'queue';
  metric: string;
  source?: string;
  target?: number;
  aggregate?: 'average' | 'total';
  tolerance?: number;
  per_instance?: number;
  delay?: number;
  warmup?: number;
  idle?: number;
  busy_metric?: string;
  max_step_up: number;
  max_step_down: number;
  up_window: number;
  down_window: number;
  stale_after: number;
  paused: boolean;
};

const ONLY_TARGET = ['target', 'aggregate', 'tolerance'] as const;
const ONLY_QUEUE = ['per_instance', 'delay', 'warmup', 'idle', 'busy_metric'] as const;

/**
 * The policy of one `[autoscale.<service>]` section; problems go to `fail(key, message)`
 * (the result is then meaningless). `services` maps service names to their type.
 */
export function toPolicy(
  service: string,
  s: Raw,
  services: ReadonlyMap<string, 'fixed' | 'scalable'>,
  fail: (key: string | undefined, message: string) => void,
): AutoscalePolicy {
  const type = services.get(service);
  if (type === undefined) fail(undefined, `no [service.${service}] to scale`);
  else if (type === 'fixed') fail(undefined, `'${service}' is a fixed service: only scalable services autoscale`);
  if (s.source !== undefined && !services.has(s.source)) fail('source', `unknown service '${s.source}'`);
  const wrong = s.policy === 'target' ? ONLY_QUEUE : ONLY_TARGET;
  for (const k of wrong)
    if (s[k] !== undefined) fail(k, `only for policy = ${s.policy === 'target' ? 'queue' : 'target'}`);
  const base = {
    metric: s.metric,
    ...(s.source !== undefined ? { source: s.source } : {}),
    maxStepUp: s.max_step_up,
    maxStepDown: s.max_step_down,
    upWindowMs: s.up_window,
    downWindowMs: s.down_window,
    staleMs: s.stale_after,
    paused: s.paused,
  };
  if (s.policy === 'target') {
    if (s.target === undefined) fail('target', 'missing required key (policy = target needs a target value)');
    else if (!(s.target > 0)) fail('target', `must be above 0, got ${s.target}`);
    return {
      ...base,
      type: 'target',
      target: s.target ?? 1,
      aggregate: s.aggregate ?? 'average',
      tolerance: s.tolerance ?? 0.1,
    };
  }
  if (s.per_instance === undefined)
    fail('per_instance', 'missing required key (policy = queue needs the work one instance takes)');
  else if (!(s.per_instance > 0)) fail('per_instance', `must be above 0, got ${s.per_instance}`);
  return {
    ...base,
    type: 'queue',
    perInstance: s.per_instance ?? 1,
    delayMs: s.delay ?? 30_000,
    warmupMs: s.warmup ?? 120_000,
    idleMs: s.idle ?? 600_000,
    ...(s.busy_metric !== undefined ? { busyMetric: s.busy_metric } : {}),
  };
}

/**
 * A policy written as the body of an `[autoscale.<service>]` section (`key = value`
 * lines), for changing a deployed service's policy; ConfigInvalidError names each bad key.
 */
export function parsePolicy(
  service: string,
  body: string,
  services: ReadonlyMap<string, 'fixed' | 'scalable'>,
): AutoscalePolicy {
  const file = 'autoscale';
  const sec = `autoscale.${service}`;
  const cfg = parseConfig(`[${sec}]\n${body}\n`, file, { 'autoscale.*': sections(autoscaleFields) });
  const issues: ConfigIssue[] = [];
  for (const other of Object.keys(cfg['autoscale.*'])) {
    if (other !== service)
      issues.push({ file, section: `autoscale.${other}`, message: `only keys of [${sec}] may be given here` });
  }
  const policy = toPolicy(service, cfg['autoscale.*'][service]!, services, (key, message) =>
    issues.push({ file, section: sec, key, message }),
  );
  if (issues.length > 0) throw new ConfigInvalidError(file, issues);
  return policy;
}
