/** Shared pieces of the gateway's engine, chat and end-to-end tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import {
  createGateway,
  type Gateway,
  type AccessPolicy,
  type EngineSettings,
  type ImageRegistry,
  type HttpOptions,
  type GatewayOptions,
} from '../../agents/gateway/index.js';
import type { Agent } from '../../core/index.js';
import { gateway as gw } from '../../protocols/index.js';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { makeAgent, silent, tokenFor } from '../helpers/agents.js';

export const CONTEXT = '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = test\n';

/** head (fixed, 1) and worker (scalable 1..6, initial `initial`), preferring cloud-a then cloud-b. */
export function clusterIni(
  o: { name?: string; initial?: number; min?: number; max?: number; context?: string; clouds?: string } = {},
): string {
  const ctx = o.context ? `context = ${o.context}\n` : '';
  return (
    `[cluster]\nname = ${o.name ?? 'batch'}\n\n[service.head]\ntype = fixed\norder = 1\nflavor = small\nimage = test-image\n${ctx}${o.clouds ? `clouds = ${o.clouds}\n` : ''}\n` +
    `[service.worker]\ntype = scalable\ndepends = head\nmin = ${o.min ?? 1}\ninitial = ${o.initial ?? 2}\nmax = ${o.max ?? 6}\nflavor = small\nimage = test-image\n${ctx}${o.clouds ? `clouds = ${o.clouds}\n` : ''}`
  );
}

/** What an engine suite shares: one ejabberd, a temp dir, user alice online; `running` is stopped, last first, after the suite. */
export interface EngineSuite {
  t: TestServer;
  dir: string;
  alice: Agent;
  readonly running: Array<{ stop(): Promise<void> }>;
}

/** Registers the suite's before/after hooks; the fields are set once `before` has run. */
export function engineSuite(dirPrefix: string): EngineSuite {
  const s = { running: [] as Array<{ stop(): Promise<void> }> } as EngineSuite;
  before(async () => {
    s.t = await startEjabberd({}, { cleanup: false });
    s.dir = mkdtempSync(join(tmpdir(), dirPrefix));
    s.alice = await makeAgent(s.t, 'alice');
    await s.alice.start();
  });
  after(async () => {
    for (const r of s.running.reverse()) await r.stop().catch(() => {});
    await s.alice?.stop();
    await s.t?.stop();
    if (s.dir) rmSync(s.dir, { recursive: true, force: true });
  });
  return s;
}

export async function startGateway(
  t: TestServer,
  o: {
    dir: string;
    clouds: readonly string[];
    policy?: Partial<AccessPolicy>;
    settings?: Partial<EngineSettings>;
    dbName?: string;
    user?: string;
    http?: HttpOptions;
    images?: ImageRegistry;
    pairing?: GatewayOptions['pairing'];
  },
): Promise<Gateway> {
  const user = o.user ?? 'gateway';
  const g = createGateway({
    xmpp: {
      service: t.service,
      domain: t.host,
      username: user,
      password: await tokenFor(t, user),
      isToken: true,
      ca: t.ca,
      resource: 'gw',
      maxStartAttempts: 3,
    },
    db: join(o.dir, o.dbName ?? 'gateway.db'),
    log: silent,
    clouds: o.clouds,
    policy: { admins: [`admin@${t.host}`], ...o.policy },
    ...(o.http ? { http: o.http } : {}),
    settings: {
      tickMs: 100,
      placementTimeoutMs: 3000,
      terminateTimeoutMs: 3000,
      readyTimeoutMs: 20_000,
      heartbeatTimeoutMs: 20_000,
      drainTimeoutMs: 3000,
      ...o.settings,
    },
    ...(o.images ? { images: o.images } : {}),
    ...(o.pairing ? { pairing: o.pairing } : {}),
  });
  await g.start();
  return g;
}

export { until } from '../helpers/wait.js';

/** A user's deployment as the API shows it. */
export async function status(user: Agent, gatewayJid: string, id: string) {
  const r = await user.request(gw.Status, gatewayJid, { deployment: id });
  return r.deployments[0]!;
}

/** Puts a context and a cluster for `user`. */
export async function prepare(user: Agent, gatewayJid: string, ini: string, context = CONTEXT): Promise<void> {
  await user.request(gw.PutContext, gatewayJid, {
    name: 'node',
    body: context,
    visibility: undefined,
    passphrase: undefined,
  });
  await user.request(gw.PutCluster, gatewayJid, { definition: ini });
}
