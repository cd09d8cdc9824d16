/**
 * applyContext: validate everything, then apply step by step, stopping at the first
 * failure, and record exactly what was applied. Re-contextualization re-applies only steps
 * whose fingerprint changed since the recorded (or given) state.
 *
 * Statuses in the report: see PluginStatus. Steps after a failure, and every plugin of a
 * context rejected by validation, are 'disabled' with a message starting "not applied:".
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { createLogger } from '../../../core/index.js';
import { ContextError } from './errors.js';
import { parseContext, type Context } from './parse.js';
import type { Json, Phase, Plugin, PluginContext, PluginResult } from './plugin.js';
import { loadPlugins, type PluginRegistry } from './registry.js';
import { planContext, type Step } from './plan.js';
import { errnoOf, StateWriteError } from './durable.js';
import { hashOf, readState, writeState, STATE_FILE, type AppliedState } from './state.js';
import { environmentOf } from './plugins/environment.js';
import { underRoot } from './fsutil.js';

export interface ApplyOptions {
  /** Everything is written under this directory; default '/' (the real system). */
  root?: string;
  /** Directories of operator plugin modules. */
  pluginDirs?: readonly string[];
  /** In-process plugins, registered like operator plugins. */
  plugins?: readonly Plugin[];
  /** A registry from loadPlugins(), to load operator plugins once rather than per apply. */
  registry?: PluginRegistry;
  log?: Logger;
  /** What is already applied; default: the state recorded under root. null: ignore it and apply everything. */
  previous?: AppliedState | null;
  /** Re-apply every step even if unchanged. */
  force?: boolean;
  fetchTimeoutMs?: number;
  scriptTimeoutMs?: number;
}

export interface ApplyReport {
  version: number | null;
  /** True when no step failed and the context was valid. */
  ok: boolean;
  /** True when the context was refused before anything ran (syntax, unknown plugin, bad data): the system is as it was. */
  rejected: boolean;
  /** Executed steps in order, then sections that were ignored. Plain JSON. */
  results: PluginResult[];
  /** The [environment] variables (when that plugin is enabled), for the caller's own commands. */
  env: Record<string, string>;
}

/** Apply a parsed context, or context text (a syntax error then becomes a report, not a throw). */
export async function applyContext(input: Context | string, opts: ApplyOptions = {}): Promise<ApplyReport> {
  const log = (opts.log ?? createLogger({ level: 'silent' })).child({ module: 'context' });
  let ctx: Context;
  try {
    ctx = typeof input === 'string' ? parseContext(input) : input;
  } catch (err) {
    if (!(err instanceof ContextError)) throw err;
    log.warn({ err }, 'context rejected');
    return {
      version: null,
      ok: false,
      rejected: true,
      results: [{ plugin: 'context', status: 'data-error', message: err.message }],
      env: {},
    };
  }
  const root = resolve(opts.root ?? '/');
  await fs.mkdir(root, { recursive: true });
  const version = ctx.cloudgate?.contextVersion ?? null;
  const registry = opts.registry ?? (await loadPlugins(opts.pluginDirs ?? [], opts.plugins ?? []));
  const plan = await planContext(ctx, registry, root);
  const env = plan.enabled.includes('environment') ? environmentOf(ctx.sections.get('environment')) : {};

  if (plan.problems.size > 0) {
    const results: PluginResult[] = plan.enabled.map((name) => {
      const p = plan.problems.get(name);
      return p
        ? { plugin: name, status: 'data-error', message: p.join('; '), detail: { problems: p } }
        : { plugin: name, status: 'disabled', message: 'not applied: the context has errors' };
    });
    log.warn({ version, problems: Object.fromEntries(plan.problems) }, 'context rejected; nothing applied');
    return { version, ok: false, rejected: true, results: [...results, ...plan.ignored], env };
  }

  const previous = opts.previous === undefined ? await readState(root) : (opts.previous ?? undefined);
  const state: AppliedState = {
    version,
    contextId: ctx.cloudgate?.contextId,
    complete: true,
    updatedAt: new Date().toISOString(),
    steps: {},
  };
  const results: PluginResult[] = [];
  let failedAt: string | undefined;
  for (const step of plan.steps) {
    const base: PluginResult = {
      plugin: step.plugin.name,
      status: 'ok',
      ...(step.phase === 'main' ? {} : { phase: step.phase }),
    };
    const prev = previous?.steps[step.id];
    if (failedAt) {
      if (prev) state.steps[step.id] = prev;
      results.push({ ...base, status: 'disabled', message: `not applied: earlier plugin "${failedAt}" failed` });
      continue;
    }
    const hash = hashOf(fingerprint(step, ctx));
    if (prev?.hash === hash && !opts.force) {
      state.steps[step.id] = prev;
      results.push({
        ...base,
        status: 'unchanged',
        changed: false,
        message: `unchanged since version ${prev.version ?? '(none)'}`,
      });
      continue;
    }
    const result = await runStep(
      step,
      base,
      pluginContext(ctx, step.phase, root, version, env, opts, log.child({ plugin: step.id })),
    );
    results.push(result);
    if (result.status === 'ok') state.steps[step.id] = { hash, version, appliedAt: new Date().toISOString() };
    else {
      failedAt = step.id;
      state.complete = false;
    }
  }
  const unrecorded = await recordState(root, state, log);
  if (unrecorded) results.push(unrecorded);
  log.info(
    {
      version,
      failed: failedAt,
      results: results.map((r) => `${r.plugin}${r.phase ? `:${r.phase}` : ''}=${r.status}`),
    },
    'context applied',
  );
  return { version, ok: !failedAt, rejected: false, results: [...results, ...plan.ignored], env };
}

/**
 * Records what was applied. The machine is set up whether or not the record is written, so
 * a record that cannot be written is reported as a result of its own (the next apply then
 * re-runs every step), never a reason to fail the context or end the agent.
 */
async function recordState(root: string, state: AppliedState, log: Logger): Promise<PluginResult | undefined> {
  try {
    await writeState(root, state, {
      onRetry: (err, attempt, delayMs) =>
        log.warn(
          { path: underRoot(root, STATE_FILE), code: err.code, attempt, delayMs },
          'state write failed; retrying',
        ),
    });
    return undefined;
  } catch (err) {
    const e = err instanceof StateWriteError ? err : new StateWriteError(underRoot(root, STATE_FILE), errnoOf(err), 1);
    log.error({ path: e.path, code: e.errno, err }, 'the applied state could not be recorded');
    return {
      plugin: 'state',
      status: 'failed',
      message: `the context was applied but ${e.message}: the next apply runs every step again`,
      detail: { path: STATE_FILE, code: e.errno },
    };
  }
}

function fingerprint(step: Step, ctx: Context): Json {
  if (step.plugin.fingerprint) return [step.id, step.plugin.fingerprint(step.section, step.phase, ctx)];
  return [step.id, [...step.section].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))];
}

async function runStep(step: Step, base: PluginResult, pctx: PluginContext): Promise<PluginResult> {
  try {
    const out = (await step.plugin.apply(step.section, pctx)) ?? {};
    const status = out.status ?? 'ok';
    if (!['ok', 'failed', 'data-error'].includes(status)) {
      return { ...base, status: 'failed', message: `plugin returned unknown status ${JSON.stringify(status)}` };
    }
    const r: PluginResult = { ...base, status };
    if (out.message !== undefined) r.message = out.message;
    if (out.changed !== undefined) r.changed = out.changed;
    if (out.detail !== undefined) r.detail = toJson(out.detail) as { [k: string]: Json };
    if (r.status !== 'ok') pctx.log.warn({ result: r }, 'plugin did not apply');
    return r;
  } catch (err) {
    pctx.log.error({ err }, 'plugin threw');
    return { ...base, status: 'failed', message: (err as Error)?.message ?? String(err) };
  }
}

/** Results cross the wire: whatever an operator plugin put in `detail` must survive JSON. */
function toJson(v: unknown): Json {
  try {
    return JSON.parse(JSON.stringify(v)) as Json;
  } catch {
    return String(v);
  }
}

function pluginContext(
  context: Context,
  phase: Phase,
  root: string,
  version: number | null,
  env: Record<string, string>,
  opts: ApplyOptions,
  log: Logger,
): PluginContext {
  return {
    root,
    log,
    context,
    phase,
    version,
    env: Object.freeze({ ...env }),
    fetchTimeoutMs: opts.fetchTimeoutMs ?? 10_000,
    scriptTimeoutMs: opts.scriptTimeoutMs ?? 600_000,
    path: (p: string) => underRoot(root, p),
  };
}
