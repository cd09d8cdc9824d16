/**
 * A fleet of real instance agents (agents/instance, its in-process factory) in this
 * process, each with its own root directory, context file, SQLite state, XMPP session and
 * JWT identity minted with the instance host's own key, as a cloud agent would mint it.
 * Their contexts name the collector as gateway and as the one JID allowed to command
 * them. Logins are paced (pace.ts); each login is timed from its first try.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { mintToken, type AgentEvent, type JwtKey } from '../../core/index.js';
import { startInstanceAgent, type InstanceAgent } from '../../agents/instance/index.js';
import { renderCloudgate } from '../../agents/instance/context/index.js';
import { paced } from './pace.js';
import { describe } from './outcome.js';

export interface FleetOptions {
  /** Names are `<prefix>-<n>` at `domain`, n from `offset` (default 0). */
  prefix: string;
  count: number;
  offset?: number;
  domain: string;
  key: JwtKey;
  server: { host: string; port: number };
  ca: string;
  /** Bare JID of the collector: gateway and allowed commander of every agent. */
  commander: string;
  /** Parent of the agents' root directories. */
  dir: string;
  concurrency: number;
  attempts: number;
  /** One login must be done within this, or it counts as failed. */
  loginTimeoutMs: number;
  heartbeatS: number;
  log: Logger;
  signal: AbortSignal;
}

export interface Fleet {
  bares: string[];
  /** Per started agent, from its first try to online (ms). */
  loginMs: number[];
  retries: number;
  failed: number;
  firstError?: string;
  readonly disconnects: number;
  /** The agents online, in the order they came online. */
  readonly agents: readonly InstanceAgent[];
  stop(): Promise<void>;
}

/** A port nothing listens on (TCP port 9, discard): the metadata probe fails at once. */
const NO_METADATA = 'http://127.0.0.1:9/latest/user-data';

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const from = o.offset ?? 0;
  const names = Array.from({ length: o.count }, (_, i) => `${o.prefix}-${String(from + i).padStart(4, '0')}`);
  const running: InstanceAgent[] = [];
  let disconnects = 0;
  const loginMs: number[] = [];
  const started = new Map<number, number>();

  const one = async (name: string, i: number): Promise<InstanceAgent> => {
    if (!started.has(i)) started.set(i, performance.now());
    const root = join(o.dir, name);
    const contextFile = join(root, 'context.ini');
    await mkdir(root, { recursive: true });
    const { token, expires } = await mintToken(o.key, `${name}@${o.domain}`, 3600);
    await writeFile(
      contextFile,
      renderCloudgate({
        jid: `${name}@${o.domain}`,
        domain: o.domain,
        server: o.server,
        token,
        tokenExpires: expires,
        ca: o.ca,
        allow: [o.commander],
        gateway: o.commander,
        contextVersion: 1,
        instanceId: name,
      }),
      { mode: 0o600 },
    );
    const login = startInstanceAgent({
      root,
      contextFile,
      env: {},
      metadataUrl: NO_METADATA,
      metadataTimeoutMs: 200,
      configDrive: join(root, 'no-config-drive'),
      maxStartAttempts: 1,
      heartbeatIntervalS: o.heartbeatS,
      log: o.log,
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${name}: not online within ${o.loginTimeoutMs} ms`)),
        o.loginTimeoutMs,
      );
    });
    try {
      return await Promise.race([login, late]);
    } catch (err) {
      // A login that finishes after we gave up must not stay behind.
      login
        .then(
          (ia) => ia.stop(),
          () => undefined,
        )
        .catch(() => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };

  const r = await paced(
    names,
    { concurrency: o.concurrency, attempts: o.attempts, signal: o.signal },
    async (name, i) => {
      const ia = await one(name, i);
      loginMs.push(performance.now() - started.get(i)!);
      running.push(ia);
      ia.agent.on('status', (e: AgentEvent) => {
        if (e.type === 'offline') disconnects++;
      });
      return ia;
    },
  );

  const first = r.errors.values().next();
  return {
    bares: names.filter((_, i) => r.results[i] !== undefined).map((n) => `${n}@${o.domain}`),
    loginMs,
    retries: r.retries,
    failed: r.errors.size,
    firstError: first.done ? undefined : describe(first.value),
    get disconnects() {
      return disconnects;
    },
    agents: running,
    async stop() {
      // Many at once, but not all: each sends its unavailable presence and closes its stream.
      await paced(running.splice(0), { concurrency: 100, attempts: 1 }, (ia) => ia.stop());
    },
  };
}
