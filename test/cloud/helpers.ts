/**
 * Shared pieces of the cloud agent tests: a real ejabberd with a separate XMPP host (and
 * JWT key) for instances, a cloud agent configuration written as an INI file, a small
 * test "gateway" that sends requests and records every stanza it receives, and waiting.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Element } from 'ltx';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { capturingLogger } from '../helpers/log.js';
import type { Agent } from '../../core/index.js';
import { cloud } from '../../protocols/index.js';
import { createCloudAgent, loadCloudConfig, type CloudAgent, type CloudAgentDeps } from '../../agents/cloud/index.js';

export const INSTANCE_DOMAIN = 'vms.localhost';

export type AllocateResult = ReturnType<typeof cloud.AllocateResult.payload.decode>;
export type InstanceStateMsg = ReturnType<typeof cloud.InstanceState.payload.decode>;
export type AllocateMsg = ReturnType<typeof cloud.Allocate.payload.decode>;

/** A cloud agent's [instances] section: its instances log in to `t` on INSTANCE_DOMAIN with tokens from that host's key. */
export function instancesSection(t: TestServer, heartbeat: string): string {
  return `[instances]
xmpp_domain = ${INSTANCE_DOMAIN}
jwt_key = ${t.server.info.hostJwtKeyFiles[INSTANCE_DOMAIN]}
server = ${t.server.info.ip}:${t.server.info.c2sPort}
ca = ${t.server.info.certFile}
token_ttl = 10m
heartbeat_interval = ${heartbeat}
`;
}

export async function startServer(): Promise<TestServer> {
  return startEjabberd({ extraHosts: [{ name: INSTANCE_DOMAIN, ownJwtKey: true }] }, { cleanup: false });
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `cgt-cloud-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ConfigOptions {
  name?: string;
  driver: 'local' | 'libvirt' | 'ec2';
  driverOptions: Record<string, string>;
  /** Extra INI text (flavor/image maps, [acl], [quota...]). */
  extra?: string;
  acl?: string;
  poll?: string;
  /** [cloud] create_concurrency (default: the agent's own). */
  createConcurrency?: number;
  requesters?: string;
  /**
   * [cloud] admins (default ops; on the local driver also alice, whose instances the
   * tests create: without [driver] shared it admits only admins).
   */
  admins?: string;
  /** [log] file (default: none, the caller passes a logger). */
  logFile?: string;
  /** Extra [instances] keys. */
  instancesExtra?: string;
}

/** Writes `<dir>/cloud.ini` and returns its path. */
export function writeConfig(t: TestServer, dir: string, o: ConfigOptions): string {
  const name = o.name ?? 'cloud-a';
  const ini = `
[xmpp]
jid = ${name}@${t.host}
server = ${t.server.info.ip}:${t.server.info.c2sPort}
jwt_key = ${t.server.info.jwtKeyFile}
ca = ${t.server.info.certFile}
resource = agent

[log]
level = trace
${o.logFile ? `file = ${o.logFile}` : ''}

[cloud]
name = ${name}
driver = ${o.driver}
poll_interval = ${o.poll ?? '200ms'}
${o.createConcurrency ? `create_concurrency = ${o.createConcurrency}` : ''}
db = ${join(dir, `${name}.sqlite`)}
requesters = ${o.requesters ?? `gateway@${t.host}`}
admins = ${o.admins ?? (o.driver === 'local' ? `ops@${t.host} alice@${t.host}` : `ops@${t.host}`)}

[driver]
${Object.entries(o.driverOptions)
  .map(([k, v]) => `${k} = ${v}`)
  .join('\n')}

[acl]
${o.acl ?? (o.driver === 'local' ? `users = alice@${t.host}` : `users = alice@${t.host}\ngroups = physics`)}

${instancesSection(t, '5s')}${o.instancesExtra ?? ''}

${o.extra ?? ''}
`;
  const file = join(dir, 'cloud.ini');
  // Ours alone: a shared local driver refuses to start while its instances could read it.
  writeFileSync(file, ini, { mode: 0o600 });
  return file;
}

/** A cloud agent with every log line captured. */
export async function startCloud(
  file: string,
  deps: CloudAgentDeps = {},
): Promise<{ ca: CloudAgent; lines: string[] }> {
  const { log, lines } = capturingLogger();
  const ca = await createCloudAgent(loadCloudConfig(file), { log, ...deps });
  await ca.start();
  return { ca, lines };
}

/** The requester: a test gateway that records what arrives. */
export class Gateway {
  readonly results: AllocateResult[] = [];
  readonly states: InstanceStateMsg[] = [];
  readonly errors: string[] = [];
  /** Every stanza received, as text. */
  readonly stanzas: string[] = [];
  private waiters: Array<() => void> = [];
  private n = 0;

  constructor(readonly agent: Agent) {
    agent.registerPresence(cloud.CloudPresence);
    agent.onMessage(cloud.AllocateResult, (m) => {
      this.results.push(m);
      this.wake();
    });
    agent.onMessage(cloud.InstanceState, (m) => {
      this.states.push(m);
      this.wake();
    });
    agent.conn.on('stanza', (el: Element) => {
      this.stanzas.push(el.toString());
      if (el.is('message') && el.attrs.type === 'error') {
        this.errors.push(el.toString());
        this.wake();
      }
    });
  }

  static async start(t: TestServer, user = 'gateway'): Promise<Gateway> {
    const g = new Gateway(await makeAgent(t, user, { kind: 'gateway', trusted: () => true }));
    await g.agent.start();
    return g;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `pick` returns a value (re-checked on every arrival and every 100 ms). */
  async until<T>(what: string, pick: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = pick();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > end)
        throw new Error(
          `timed out waiting for ${what}; states: ${JSON.stringify(this.states.map((s) => `${s.name}:${s.state}`))}`,
        );
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  /** Sends an Allocate reliably; resolves with its request id. */
  async allocate(to: string, o: Partial<AllocateMsg> & { names: string[] }): Promise<string> {
    const msg: AllocateMsg = {
      request_id: o.request_id ?? `req-${++this.n}-${Date.now()}`,
      deployment: o.deployment ?? 'dep-1',
      service: o.service ?? 'worker',
      owner: o.owner ?? `alice@${this.agent.options.xmpp.domain}`,
      groups: o.groups,
      flavor: o.flavor ?? 'medium',
      image: o.image ?? 'cernvm-4',
      names: o.names,
      context: o.context ?? '[amiconfig]\nplugins = environment\n\n[environment]\nGREETING = hello\n',
      context_version: o.context_version ?? 1,
      context_id: o.context_id ?? 'ctx-1',
      allow: o.allow ?? [`alice@${this.agent.options.xmpp.domain}`],
    };
    await this.agent.sendReliable(cloud.Allocate, to, msg);
    return msg.request_id;
  }

  result(requestId: string): Promise<AllocateResult> {
    return this.until(`the allocate result of ${requestId}`, () =>
      this.results.find((r) => r.request_id === requestId),
    );
  }

  lastState(name: string): string | undefined {
    return [...this.states].reverse().find((s) => s.name === name)?.state;
  }

  stateIs(names: string[], state: string, timeoutMs?: number): Promise<true> {
    return this.until(
      `${names.join(', ')} to be ${state}`,
      () => names.every((n) => this.lastState(n) === state) || undefined,
      timeoutMs,
    );
  }
}

/** The file and its write-ahead log, as the bytes an attacker with the disk would see. */
export function dbBytes(file: string): string {
  const read = (f: string) => {
    try {
      return readFileSync(f).toString('latin1');
    } catch {
      return '';
    }
  };
  return read(file) + read(`${file}-wal`);
}

/** The `k` of a symmetric JWK file: the secret itself. */
export function jwkSecret(file: string): string {
  return (JSON.parse(readFileSync(file, 'utf8')) as { k: string }).k;
}

export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `token = …` of a [cloudgate] section. */
export function tokenOf(userData: string): string | undefined {
  return /^token = (\S+)$/m.exec(userData)?.[1];
}
