/**
 * The instance agent, inside every VM: finds its context, applies it, joins XMPP under
 * the short-lived identity its [cloudgate] section names, reports readiness, health and
 * metrics, and runs what the JIDs its context allows ask of it.
 *
 * Boot: locate the context (locate.ts) → read [cloudgate] (even from a broken context) →
 * apply the context while logging in (the gateway sees 'contextualizing', then 'ready' or
 * 'failed' with a ContextReport saying why) → presence, heartbeats, commands.
 * This file only wires; each capability is a factory in its own file.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Agent, createLogger, openStore } from '../../core/index.js';
import type { RunningAgent } from '../../core/index.js';
import type { Logger } from 'pino';
import {
  errnoOf,
  StateWriteError,
  underRoot,
  withCloudgate,
  type ApplyReport,
  type CloudgateSection,
  type PluginResult,
} from './context/index.js';
import { optionsFromFile, type InstanceAgentOptions } from './config.js';
import { contextualizer, refusedReport } from './contextualize.js';
import { instanceCommands } from './commands.js';
import { InstanceError } from './errors.js';
import { heartbeat } from './heartbeat.js';
import { Identity, bareOf, salvageCloudgate } from './identity.js';
import { Lifecycle } from './lifecycle.js';
import { locateContext, type Located } from './locate.js';
import { metricsCollector } from './metrics.js';
import { instancePresence } from './presence.js';
import { recontextualization } from './recontext.js';
import { loadSavedToken, saveContext, saveToken, SAVED_CONTEXT } from './saved.js';
import { jwtExpiry, tokenRenewal, type TokenHolder } from './token.js';

export { optionsFromFile, instanceSchema, type InstanceAgentOptions } from './config.js';
export { InstanceError, type InstanceErrorCode } from './errors.js';
export { Lifecycle, type LifeSnapshot, type ContextPhase } from './lifecycle.js';
export { METRICS_FILE, parseCustomMetrics } from './metrics.js';
export { SAVED_CONTEXT, SAVED_TOKEN } from './saved.js';
export { fetchPairedContext, type Located, type LocatedSource } from './locate.js';
export { salvageCloudgate, mergeCloudgate, Identity } from './identity.js';
export { jwtExpiry, renewalDelayMs } from './token.js';

export const STATE_DB = '/var/lib/cloudgate/agent.db';

export interface InstanceAgent extends RunningAgent {
  identity: Identity;
  life: Lifecycle;
  /** Where the context came from, and what applying it at boot gave. */
  located: Located;
  bootReport: ApplyReport;
  token: TokenHolder;
  /** Sends one heartbeat now (tests, and a caller that wants one at once). */
  beat(): Promise<boolean>;
  /** Resolves with the reason once the agent has stopped (a Shutdown request, or stop()). */
  stopped: Promise<string>;
}

/** A context was applied but names no usable identity: the agent cannot join XMPP. */
export class NoIdentityError extends InstanceError {
  constructor(
    message: string,
    readonly report: ApplyReport,
  ) {
    super('CG_INSTANCE_NO_IDENTITY', message);
  }
}

export async function startInstanceAgent(o: InstanceAgentOptions = {}): Promise<InstanceAgent> {
  const env = o.env ?? process.env;
  const root = resolve(o.root ?? env.CLOUDGATE_ROOT ?? '/');
  const baseLog = o.log ?? createLogger();
  const log = baseLog.child({ agent: 'instance' });
  await mkdir(root, { recursive: true });
  const contexts = contextualizer({
    root,
    pluginDirs: o.pluginDirs,
    plugins: o.plugins,
    scriptTimeoutMs: o.scriptTimeoutMs,
    log,
  });

  const located = await locateContext({
    root,
    log,
    pairCode: o.pairCode,
    gatewayUrl: o.gatewayUrl,
    find: {
      env: o.contextFile ? { ...env, CLOUDGATE_CONTEXT_FILE: o.contextFile } : env,
      metadataUrl: o.metadataUrl,
      timeoutMs: o.metadataTimeoutMs,
      configDriveDirs: o.configDrive ? [o.configDrive] : undefined,
    },
  });
  const salvaged = salvageCloudgate(located.text);
  const cg = salvaged.cloudgate;
  const saved = cg ? await loadSavedToken(root) : undefined;
  const token = pickToken(cg, saved?.jid === (cg && bareOf(cg.jid)) ? saved : undefined);
  if (!cg || !token) {
    // Nothing to join with; still do what an amiconfig context asks, like amiconfig did.
    const report = salvaged.error ? refusedReport(salvaged.error.message) : await contexts.apply(located.text);
    const why = !cg ? 'the context has no usable [cloudgate] section' : '[cloudgate] has no token';
    throw new NoIdentityError(
      `${why}: context applied (${report.ok ? 'ok' : 'with failures'}), cannot join XMPP`,
      report,
    );
  }

  const version = cg.contextVersion ?? 0;
  const identity = new Identity(cg, o.instanceId ?? env.CLOUDGATE_INSTANCE_ID ?? cg.instanceId ?? cg.jid.split('@')[0]);
  const life = new Lifecycle();
  const db = openStore(o.stateDb ?? underRoot(root, STATE_DB), []);
  const url = (s: { host: string; port: number }) =>
    `xmpp://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
  const services = (cg.servers ?? [cg.server ?? { host: cg.domain, port: 5222 }]).map(url);
  const agent = new Agent({
    kind: 'instance',
    log: baseLog,
    db,
    trusted: (bare) => identity.trusts(bare),
    xmpp: {
      service: services[0],
      services,
      domain: cg.jid.split('@')[1].split('/')[0],
      username: cg.jid.split('@')[0],
      password: token.token,
      isToken: true,
      // Every (re)login takes the newest token: the renewed one once renewal happened.
      refresh: async () => token.token,
      resource: cg.jid.includes('/') ? cg.jid.slice(cg.jid.indexOf('/') + 1) : 'agent',
      ca: cg.ca,
      maxStartAttempts: o.maxStartAttempts,
    },
  });

  let resolveStopped!: (reason: string) => void;
  const stopped = new Promise<string>((r) => {
    resolveStopped = r;
  });
  let stopping: Promise<void> | undefined;
  const stop = (reason = 'stopped') =>
    (stopping ??= (async () => {
      await agent.stop();
      db.close();
      resolveStopped(reason);
    })());

  const presence = instancePresence({ identity, life, log });
  const beats = heartbeat({
    identity,
    life,
    metrics: metricsCollector({ root, log }),
    log,
    intervalS: o.heartbeatIntervalS,
  });
  agent
    .use(presence)
    .use(
      tokenRenewal({
        holder: token,
        cloud: () => identity.cloud,
        log,
        // The renewed token is in use whether or not it could be saved: only a restart
        // before the next renewal needs it, so a failed save is logged, not fatal.
        onRenewed: (t) =>
          saveToken(root, { jid: identity.bare, ...t }).catch((err) => {
            logWriteError(log, err, 'renewed token not saved');
          }),
      }),
    )
    .use(beats)
    .use(
      instanceCommands({
        identity,
        life,
        root,
        log,
        env: contexts.env,
        shutdown: (reason) =>
          void stop(reason).then(
            () => o.onShutdown?.(reason),
            (err) => log.error({ err }, 'stop failed'),
          ),
      }),
    )
    .use(
      recontextualization({
        identity,
        life,
        contexts,
        log,
        onApplied: async (section: CloudgateSection, text: string, v: number) => {
          if ((section.tokenExpires ?? 0) > (token.expires ?? 0) && section.token)
            Object.assign(token, { token: section.token, expires: section.tokenExpires });
          let unsaved: PluginResult | undefined;
          try {
            await saveContext(root, { jid: identity.bare, version: v, text: withCloudgate(text, section) });
          } catch (err) {
            const e = logWriteError(log, err, 'new context applied but not saved');
            unsaved = {
              plugin: 'state',
              status: 'failed',
              message: `the context was applied but ${e.message}: a restart would boot the previous version`,
              detail: { path: SAVED_CONTEXT, code: e.errno },
            };
          }
          await presence.refresh();
          return unsaved;
        },
      }),
    );

  // Apply while logging in: a long context does not delay the gateway seeing us, and a
  // busy server does not delay the machine being set up.
  life.setContext('contextualizing', version);
  // Handled from the moment it exists: it may reject while the login is still under way,
  // and an unhandled rejection would end the whole process (every agent in it).
  const applying: Promise<ApplyReport> = (
    salvaged.error ? Promise.resolve(refusedReport(salvaged.error.message)) : contexts.apply(located.text)
  ).catch((err) => {
    log.error({ err, path: (err as NodeJS.ErrnoException)?.path, code: errnoOf(err) }, 'applying the context threw');
    return { ...refusedReport(`internal error while applying: ${(err as Error).message}`), rejected: false };
  });
  try {
    await agent.start();
  } catch (err) {
    await applying;
    await stop('could not start').catch(() => undefined);
    throw err;
  }
  const bootReport = await applying;
  life.setContext(bootReport.ok ? 'ready' : 'failed', version);
  await contexts.report(agent, identity, version, bootReport);
  log.info(
    { source: located.source, version, ok: bootReport.ok, jid: agent.jid },
    bootReport.ok ? 'instance ready' : 'instance up, context failed',
  );

  return { agent, identity, life, located, bootReport, token, beat: beats.beat, stopped, stop: () => stop() };
}

/** Logs a failed write of the agent's own records with its path and code; returns it typed. */
function logWriteError(log: Logger, err: unknown, msg: string): StateWriteError {
  const e = err instanceof StateWriteError ? err : new StateWriteError('(unknown)', errnoOf(err), 1, { cause: err });
  log.error({ path: e.path, code: e.errno, err }, msg);
  return e;
}

/** The token to log in with: the context's, or a renewed one saved earlier that lives longer. */
function pickToken(
  cg: CloudgateSection | undefined,
  saved: { token: string; expires?: number } | undefined,
): TokenHolder | undefined {
  const fromContext = cg?.token ? { token: cg.token, expires: cg.tokenExpires ?? jwtExpiry(cg.token) } : undefined;
  const fromSaved = saved ? { token: saved.token, expires: saved.expires ?? jwtExpiry(saved.token) } : undefined;
  if (!fromSaved) return fromContext;
  if (!fromContext) return fromSaved;
  return (fromSaved.expires ?? 0) > (fromContext.expires ?? 0) ? fromSaved : fromContext;
}

/** `cloudgate agent instance --config f.ini`. */
export async function run(configFile: string): Promise<RunningAgent> {
  const o = optionsFromFile(configFile);
  return startInstanceAgent({ ...o, onShutdown: () => process.exit(0) });
}
