/**
 * The gateway agent: the single front for people (chat commands) and programs (the typed
 * IQ API). It keeps users, contexts, cluster definitions and deployments in SQLite,
 * places instances over the cloud agents, follows every instance to its end and publishes
 * each change on the deployment's PubSub node. This file is the one place it is wired.
 *
 * A deployment's state is the story of its roll-out: pending (stored), running (being
 * deployed), completed (every instance ready with its context version), failed (the
 * roll-out could not finish), aborted (destroyed before it completed). Later work on a
 * completed deployment (scale, replacements, destroy) is told by its jobs and events; a
 * destroyed one keeps its state, with every instance terminated and a 'destroyed' event.
 *
 *   cloudgate agent gateway --config gateway.ini      (see examples/gateway.ini)
 */
import { readFileSync } from 'node:fs';
import {
  Agent,
  ConfigError,
  createLogger,
  loadJwtKey,
  mintToken,
  type Db,
  type Logger,
  type XmppOptions,
} from '../../core/index.js';
import { xmppOptions, type RunningAgent } from '../../core/index.js';
import { cloud as cloudProto, gateway as gatewayProto } from '../../protocols/index.js';
import { createAccess, type AccessPolicy } from './access.js';
import { createAllocator } from './allocator.js';
import { createApi } from './api.js';
import { createAutoscaleControl, createScaler } from './autoscale/index.js';
import { addChatCommands } from './chat.js';
import { createClouds } from './clouds.js';
import { createConductor } from './conductor.js';
import { engineSettings, loadGatewayConfig, type EngineSettings } from './config.js';
import { createContextTexts } from './contexts.js';
import { createConverger } from './converge.js';
import { createLiveness } from './liveness.js';
import { createGatewayModel, openGatewayStore, type GatewayModel } from './model/index.js';
import { loadImageRegistry, type ImageRegistry } from './images.js';
import { createMarket, type Market } from './market.js';
import { addMarketChat } from './market-chat.js';
import { createNotifier } from './notifier.js';
import { createOperations, visibleDeployment } from './operations.js';
import { pairing } from './pairing.js';
import { createPlanner } from './planner.js';
import { createPublisher } from './publisher.js';
import { createRemoval } from './removal.js';
import { createService, type Service } from './service.js';
import { createHttpFront, type HttpFront, type HttpOptions } from './http.js';
import { createLoginCheck } from './http-login.js';
import { createTracker } from './tracker.js';

export {
  loadGatewayConfig,
  parseGatewayConfig,
  gatewaySchema,
  engineSettings,
  type GatewayConfig,
  type EngineSettings,
} from './config.js';
export { nodeOf } from './publisher.js';
export { cloudName } from './allocator.js';
export type { AccessPolicy } from './access.js';
// The client library and its progress display, for programs that drive a gateway (the demo, the benchmark).
export {
  GatewayClient,
  GatewayUnreachableError,
  OperationFailedError,
  UsageError,
  describeError,
  exitCodeFor,
  isReady,
  type DeploymentEventView,
  type DeploymentView,
} from './client.js';
export { createProgress, type Progress, type ProgressStream } from './cli.js';
export { imageRegistry, loadImageRegistry, type ImageRegistry } from './images.js';
export type { Market, MarketEntry, MarketPage } from './market.js';
export type {
  Service,
  WhoAmI,
  PutContextRequest,
  ReadContextRequest,
  ContextText,
  PairingRequest,
  PairingAnswer,
} from './service.js';
export type { DeployRequest, ScaleRequest } from './operations.js';
export type { HttpOptions, HttpFront } from './http.js';

export interface GatewayOptions {
  xmpp: XmppOptions;
  /** The gateway's database file (or an open one, which the gateway then closes on stop). */
  db: string | Db;
  log?: Logger;
  /** Bare JIDs of the cloud agents, best first. */
  clouds: readonly string[];
  policy: AccessPolicy;
  settings?: Partial<EngineSettings>;
  pubsubService?: string;
  /** Pairing of running machines (agents/gateway/pairing.ts); off when absent. */
  pairing?: Omit<Parameters<typeof pairing>[0], 'agent' | 'model' | 'log'>;
  /** Image metadata for cluster definitions (agents/gateway/images.ts); none when absent. */
  images?: ImageRegistry;
  /** The HTTP API (agents/gateway/http.ts); off when absent. */
  http?: HttpOptions;
}

export interface Gateway {
  readonly agent: Agent;
  readonly model: GatewayModel;
  readonly market: Market;
  /** The use cases every front (IQ, chat, HTTP) calls, authorized by the caller's JID. */
  readonly service: Service;
  /** The HTTP API, when configured; its `url` is set once started. */
  readonly http?: HttpFront;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when no deployment step runs and every event is published (tests). */
  settle(): Promise<void>;
}

export function createGateway(o: GatewayOptions): Gateway {
  const settings = { ...engineSettings(), ...o.settings };
  const log = o.log ?? createLogger();
  const db = typeof o.db === 'string' ? openGatewayStore(o.db, { log }) : o.db;
  const notify = createNotifier();
  const model = createGatewayModel(db, { onEvent: notify.appended, checkCluster: o.images?.checkCluster });
  // A fixed resource gives programs one address to send requests to (protocols/gateway.ts).
  const xmpp =
    o.xmpp.kind === 'component' || o.xmpp.resource ? o.xmpp : { ...o.xmpp, resource: gatewayProto.GATEWAY_RESOURCE };
  const agent = new Agent({
    kind: 'gateway',
    xmpp,
    log,
    db,
    pubsubService: o.pubsubService,
    // Anyone may talk to the gateway; every request and report is authorized on its own.
    trusted: () => true,
  });
  const mlog = (module: string) => agent.log.child({ module });
  const access = createAccess({ model, policy: o.policy, domain: o.xmpp.domain });
  const publisher = createPublisher({
    agent,
    model,
    log: mlog('publisher'),
    admins: access.admins,
    access: settings.nodeAccess,
  });
  agent.registerPresence(cloudProto.CloudPresence);
  const clouds = createClouds({ agent, jids: o.clouds, log: mlog('clouds') });
  const texts = createContextTexts({ model });
  const allocator = createAllocator({ agent, model, access, texts, log: mlog('allocator') });

  notify.attach({ appended: publisher.appended });
  const { changed } = notify;
  const liveness = createLiveness({
    agent,
    model,
    log: mlog('liveness'),
    heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
    changed,
    lost: notify.lost,
  });
  const tracker = createTracker({
    agent,
    model,
    clouds,
    allocator,
    log: mlog('tracker'),
    changed,
    instanceJid: (i) => liveness.known(i),
  });
  const removal = createRemoval({
    agent,
    model,
    allocator,
    clouds,
    liveness,
    log: mlog('removal'),
    changed,
    drainTimeoutMs: settings.drainTimeoutMs,
    terminateTimeoutMs: settings.terminateTimeoutMs,
  });
  const planner = createPlanner({ clouds, access, log: mlog('planner') });
  const converger = createConverger({
    model,
    planner,
    allocator,
    removal,
    liveness,
    clouds,
    log: mlog('converge'),
    readyTimeoutMs: settings.readyTimeoutMs,
  });
  const conductor = createConductor({
    model,
    converger,
    removal,
    liveness,
    log: mlog('conductor'),
    placementTimeoutMs: settings.placementTimeoutMs,
    tickMs: settings.tickMs,
  });
  const scaler = createScaler({
    model,
    report: (id) => liveness.report(id),
    kick: notify.changed,
    log: mlog('autoscale'),
    intervalMs: settings.autoscaleIntervalMs,
  });
  liveness.watchReports(scaler.heard);
  notify.attach({
    changed: (id) => {
      scaler.touch(id);
      conductor.kick(id);
    },
    lost: conductor.lost,
  });
  const visible = visibleDeployment({ model, access });
  const autoscale = createAutoscaleControl({ model, scaler, visible });
  const ops = createOperations({
    model,
    access,
    texts,
    conductor,
    visible,
    prepareNode: (id, owner) => publisher.prepare(id, owner),
    onManualScale: autoscale.pauseForManualScale,
  });
  const pairer = o.pairing
    ? pairing({ ...o.pairing, agent, model, log: mlog('pairing'), serveCodes: false })
    : undefined;
  if (pairer) agent.use(pairer);
  const market = createMarket({ db, model, isAdmin: (j) => access.isAdmin(j) });
  const service = createService({
    model,
    access,
    texts,
    ops,
    clouds,
    autoscale,
    market,
    ...(pairer ? { pairing: pairer.createCode, pairingClaims: pairer } : {}),
    ...(o.images ? { images: o.images } : {}),
  });
  createApi({ agent, model, service });
  addChatCommands({ agent, model, service, events: publisher.events });
  addMarketChat({ agent, market: service.market, access });
  const http =
    o.http &&
    createHttpFront({
      ...o.http,
      service,
      model,
      events: publisher.events,
      log: mlog('http'),
      login: createLoginCheck({
        service: o.xmpp.service,
        domain: o.xmpp.domain,
        ca: o.xmpp.ca,
        log: mlog('http-login'),
        maxFailures: o.http.loginFailures,
      }),
    });

  clouds.events.on('online', (jid: string) => {
    // A cloud (re)appeared: compare its list with ours, then let every open job go on.
    tracker
      .reconcile(jid)
      .catch((err) => agent.log.warn({ err, cloud: jid }, 'reconciliation failed'))
      .finally(() => {
        for (const j of model.jobs.unfinished()) conductor.kick(j.deploymentId);
      });
  });

  let stopped = false;
  return {
    agent,
    model,
    market,
    service,
    ...(http ? { http } : {}),
    async start() {
      access.syncGroups();
      await agent.start();
      await clouds.announce();
      // After a restart: instance agents learn we are back (they answer with their presence).
      for (const i of model.instances.inStates(['requested', 'booting', 'running', 'draining']))
        if (i.jid) liveness.known(i);
      await allocator.resendRequested();
      publisher.kick();
      conductor.start();
      scaler.start();
      await http?.start();
      agent.log.info({ clouds: o.clouds, ...(http ? { http: http.url } : {}) }, 'gateway ready');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await http?.stop().catch((err) => agent.log.warn({ err }, 'HTTP API did not close cleanly'));
      scaler.stop();
      await conductor.stop();
      publisher.stop();
      await agent.stop();
      await conductor.stop(1000);
      db.close();
    },
    async settle() {
      await conductor.idle();
      await publisher.idle();
    },
  };
}

/** `cloudgate agent gateway --config gateway.ini` (agents/runtime.ts). */
export async function run(configFile: string): Promise<RunningAgent> {
  const cfg = loadGatewayConfig(configFile);
  const log = createLogger({ level: cfg.log?.level, destination: cfg.log?.file });
  const xmpp = await xmppOptions(cfg.xmpp, configFile);
  const p = cfg.pairing;
  const gw = createGateway({
    xmpp,
    log,
    db: cfg.gateway.db,
    clouds: cfg.gateway.clouds,
    policy: {
      admins: cfg.gateway.admins,
      ...(cfg.users?.allow ? { allow: cfg.users.allow } : {}),
      ...(cfg.users?.deny ? { deny: cfg.users.deny } : {}),
      groups: cfg['group.*'],
    },
    settings: engineSettings(cfg.gateway),
    ...(cfg.gateway.pubsub ? { pubsubService: cfg.gateway.pubsub } : {}),
    ...(p ? { pairing: await pairingOptions(p, configFile) } : {}),
    ...(cfg.images
      ? {
          images: loadImageRegistry({
            endorsers: cfg.images.endorsers,
            metadataDir: cfg.images.metadata_dir,
            log: log.child({ module: 'images' }),
            where: `${configFile} [images]`,
          }),
        }
      : {}),
    ...(cfg.http ? { http: httpOptions(cfg.http, configFile) } : {}),
  });
  try {
    await gw.start();
  } catch (err) {
    await gw.stop().catch(() => {});
    throw err;
  }
  return { agent: gw.agent, stop: () => gw.stop() };
}

function httpOptions(h: NonNullable<ReturnType<typeof loadGatewayConfig>['http']>, file: string): HttpOptions {
  if (!!h.cert !== !!h.key) throw new ConfigError(`${file} [http]: give both cert and key, or neither (loopback only)`);
  const read = (k: 'cert' | 'key', f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch (err) {
      throw new ConfigError(`${file} [http] ${k}: cannot read ${f} (${(err as Error).message})`, { cause: err });
    }
  };
  return {
    host: h.host,
    port: h.port,
    accessTtlS: Math.round(h.access_ttl / 1000),
    refreshTtlS: Math.round(h.refresh_ttl / 1000),
    bodyLimit: h.body_limit,
    loginFailures: h.login_failures,
    ...(h.cert && h.key ? { tls: { cert: read('cert', h.cert), key: read('key', h.key) } } : {}),
  };
}

async function pairingOptions(p: NonNullable<ReturnType<typeof loadGatewayConfig>['pairing']>, file: string) {
  const key = await loadJwtKey(p.jwt_key);
  let ca: string | undefined;
  if (p.ca) {
    try {
      ca = readFileSync(p.ca, 'utf8');
    } catch (err) {
      throw new ConfigError(`${file} [pairing] ca: cannot read ${p.ca} (${(err as Error).message})`, { cause: err });
    }
  }
  return {
    mint: (jid: string) => mintToken(key, jid, Math.round(p.token_ttl / 1000)),
    httpPort: p.http_port,
    httpHost: p.http_host,
    domain: p.xmpp_domain,
    server: `${p.server.host.includes(':') ? `[${p.server.host}]` : p.server.host}:${p.server.port}`,
    ...(ca ? { ca } : {}),
    defaultTtlS: Math.round(p.ttl / 1000),
    maxTtlS: Math.round(p.max_ttl / 1000),
  };
}
