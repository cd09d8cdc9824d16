/**
 * For the instance agent's integration tests: a real ejabberd with a host of its own for
 * instances (own JWT key, as a cloud agent's would be), a stand-in gateway agent that
 * records presence, heartbeats and context reports, and contexts with a [cloudgate]
 * section pointing at that server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadJwtKey, mintToken, type Agent, type PeerEvent } from '../../core/index.js';
import { Heartbeat, ContextReport, InstancePresence } from '../../protocols/instance.js';
import { renderCloudgate, type CloudgateSection } from '../../agents/instance/context/index.js';
import { startInstanceAgent, type InstanceAgent, type InstanceAgentOptions } from '../../agents/instance/index.js';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { makeAgent, silent } from '../helpers/agents.js';
import { until } from '../helpers/wait.js';
import { closedPort } from './helpers.js';

export const INSTANCE_HOST = 'i.localhost';

export function startServer(): Promise<TestServer> {
  return startEjabberd({ extraHosts: [{ name: INSTANCE_HOST, ownJwtKey: true }] }, { cleanup: false });
}

/** What a cloud agent does: mint a login for an instance JID with the instance host's key. */
export async function mintInstance(
  t: TestServer,
  local: string,
  ttlS = 3600,
): Promise<{ token: string; expires: number }> {
  const key = await loadJwtKey(t.server.info.hostJwtKeyFiles[INSTANCE_HOST]!);
  return mintToken(key, `${local}@${INSTANCE_HOST}`, ttlS);
}

export interface CgFields {
  allow?: string[];
  gateway?: string;
  cloud?: string;
  version?: number;
  ttlS?: number;
  instanceId?: string;
  token?: string;
  expires?: number;
}

/** A [cloudgate] section for `local`@i.localhost on server `t`. */
export async function cloudgateFor(t: TestServer, local: string, f: CgFields = {}): Promise<string> {
  const minted = f.token ? { token: f.token, expires: f.expires } : await mintInstance(t, local, f.ttlS);
  const cg: CloudgateSection = {
    jid: `${local}@${INSTANCE_HOST}`,
    domain: INSTANCE_HOST,
    server: { host: t.server.info.ip, port: t.server.info.c2sPort },
    token: minted.token,
    tokenExpires: minted.expires,
    ca: t.ca,
    allow: f.allow ?? [`gateway@${t.host}`],
    gateway: f.gateway ?? `gateway@${t.host}`,
    cloud: f.cloud,
    contextVersion: f.version ?? 1,
    instanceId: f.instanceId,
    deployment: 'dep-1',
    service: 'worker',
  };
  return renderCloudgate(cg);
}

type Beat = Record<string, any> & {
  seq: number;
  custom?: Record<string, string>;
  phase: string;
  context_version: number;
};
type Report = { version: number; ok: boolean; results: any[]; instance_id: string };
type Presence = { instance_id: string; phase: string; ready: boolean; busy?: boolean; context_version: number };

/** A gateway stand-in: records what instances tell it. */
export async function testGateway(t: TestServer, o: { user?: string; prepare?: (agent: Agent) => void } = {}) {
  const agent = await makeAgent(t, o.user ?? 'gateway', { kind: 'gateway' });
  o.prepare?.(agent);
  agent.registerPresence(InstancePresence);
  const beats: Beat[] = [];
  const reports: Report[] = [];
  const presences: Array<Presence & { jid: string }> = [];
  agent.onMessage(Heartbeat, (m) => {
    beats.push(m as Beat);
  });
  agent.onMessage(ContextReport, (m) => {
    reports.push(m as Report);
  });
  agent.on('peer', (e: PeerEvent) => {
    if (e.type !== 'offline' && e.peer.kind === 'instance' && e.peer.data)
      presences.push({ ...(e.peer.data as Presence), jid: e.peer.jid });
  });
  await agent.start();
  return { agent, beats, reports, presences };
}
export type TestGateway = Awaited<ReturnType<typeof testGateway>>;

/** Polls `probe` until it returns something truthy; fails after `ms` with `what`. */
export function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | null,
  ms = 20_000,
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  return until(what, probe, ms, 20);
}

/** Where cleanups go: a test's context, or a suite's own list (for things that outlive one test). */
export type Cleanup = Pick<TestContext, 'after'> | { after(fn: () => unknown): void };

/** A temp directory removed after the test (or suite). */
export function tempDir(t: Cleanup, prefix = 'cg-ia-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Cleanups for a suite: register in tests, run from the suite's after(). */
export function suiteCleanup(): Cleanup & { run(): Promise<void> } {
  const fns: Array<() => unknown> = [];
  return {
    after: (fn: () => unknown) => {
      fns.push(fn);
    },
    async run() {
      for (const fn of fns.splice(0).reverse()) await fn();
    },
  };
}

/** Starts an instance agent that looks only where the test says (no real metadata service or config drive). */
export async function startInstance(t: Cleanup, o: InstanceAgentOptions): Promise<InstanceAgent> {
  const ia = await startInstanceAgent({
    env: {},
    metadataUrl: `http://127.0.0.1:${await closedPort()}/latest/user-data`,
    configDrive: join(o.root ?? tmpdir(), 'no-config-drive'),
    metadataTimeoutMs: 5000,
    stateDb: ':memory:',
    maxStartAttempts: 3,
    log: silent,
    ...o,
  });
  t.after(() => ia.stop());
  return ia;
}

export const gatewayJid = (t: TestServer) => `gateway@${t.host}`;
export type { Agent };
