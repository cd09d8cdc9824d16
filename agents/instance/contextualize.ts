/**
 * Applying a context on behalf of the agent: one plugin registry for the agent's life,
 * failures of the machinery (an operator plugin that does not load) reported like a
 * plugin's, and the per-plugin results sent reliably to the gateway as a ContextReport
 * (stored in the agent's outbox until the gateway acknowledges it).
 */
import type { Logger } from 'pino';
import type { Agent } from '../../core/index.js';
import { instance as proto } from '../../protocols/index.js';
import {
  applyContext,
  loadPlugins,
  ContextError,
  type ApplyReport,
  type Context,
  type Plugin,
  type PluginRegistry,
} from './context/index.js';
import type { Identity } from './identity.js';

const { ContextReport } = proto;

export interface ContextualizerOptions {
  root: string;
  pluginDirs?: readonly string[];
  plugins?: readonly Plugin[];
  scriptTimeoutMs?: number;
  fetchTimeoutMs?: number;
  log: Logger;
}

export function contextualizer(o: ContextualizerOptions) {
  let registry: Promise<PluginRegistry> | undefined;
  /** The [environment] of the context in force, for the scripts the agent runs later. */
  let env: Record<string, string> = {};

  const apply = async (input: Context | string): Promise<ApplyReport> => {
    let reg: PluginRegistry;
    try {
      registry ??= loadPlugins(o.pluginDirs ?? [], o.plugins ?? []);
      reg = await registry;
    } catch (err) {
      registry = undefined; // try again next time: the operator may fix the plugin directory
      if (!(err instanceof ContextError)) throw err;
      o.log.error({ err }, 'operator plugins did not load; nothing applied');
      return {
        version: null,
        ok: false,
        rejected: true,
        results: [{ plugin: 'context', status: 'failed', message: err.message }],
        env: {},
      };
    }
    const report = await applyContext(input, {
      root: o.root,
      registry: reg,
      log: o.log,
      scriptTimeoutMs: o.scriptTimeoutMs,
      fetchTimeoutMs: o.fetchTimeoutMs,
    });
    if (!report.rejected) env = report.env;
    return report;
  };

  /** Sends the report to the gateway (if the context names one); resolves once queued. */
  const report = async (
    agent: Agent,
    identity: Identity,
    version: number,
    r: Pick<ApplyReport, 'ok' | 'results'>,
  ): Promise<string | undefined> => {
    const gw = identity.gateway;
    if (!gw) return undefined;
    return agent.sendReliable(ContextReport, gw, {
      instance_id: identity.instanceId,
      deployment: identity.section.deployment,
      service: identity.section.service,
      version,
      ok: r.ok,
      results: r.results,
      at: new Date().toISOString(),
    });
  };

  return { apply, report, env: () => env };
}

export type Contextualizer = ReturnType<typeof contextualizer>;

/** A report for a context refused before any plugin saw it. */
export function refusedReport(reason: string): ApplyReport {
  return {
    version: null,
    ok: false,
    rejected: true,
    results: [{ plugin: 'context', status: 'data-error', message: reason }],
    env: {},
  };
}
