/**
 * A whole installation for fault tests, as an operator runs it: a project-local ejabberd,
 * the gateway and one cloud agent (local driver) as separate OS processes started with
 * `cloudgate agent <kind> --config`, so a `kill -9` is a real one, and the local driver's
 * instances as real instance-agent processes (they outlive the cloud agent, as VMs do).
 * The INI files come from the demo's writer, with the numbers tuned for 50 instances on a
 * 2-core machine and for faults that must be noticed within seconds.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, sleep } from '../../core/index.js';
import type { EjabberdServer } from '../../ejabberd/index.js';
import { GatewayClient } from '../../agents/gateway/client.js';
import { startServer } from '../../agents/demo/server.js';
import {
  writeConfigs,
  CLOUD_JID,
  CLOUD_NAME,
  DEMO_USER,
  GATEWAY_JID,
  type DemoFiles,
} from '../../agents/demo/configs.js';
import { spawnAgent, type AgentProcess } from '../../agents/demo/processes.js';
import { createAccounts } from '../../agents/demo/accounts.js';
import { terminateLocalInstances } from '../../agents/demo/leftovers.js';
import { editIniFile } from '../helpers/ini.js';
import { killProcessesOf, watchOver } from '../helpers/watchdog.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist', 'agents', 'cli.js');

/**
 * Timings every fault test relies on. The gateway declares an instance lost after
 * HEARTBEAT_TIMEOUT_S of silence; it must exceed what an instance agent may take to come
 * back after the server returns (its reconnect backoff is capped at 30 s), or a restart of
 * ejabberd would cost instances that are perfectly well.
 */
export const HEARTBEAT_TIMEOUT_S = 40;
export const HEARTBEAT_INTERVAL_S = 2;

export interface System {
  readonly dir: string;
  readonly server: EjabberdServer;
  readonly files: DemoFiles;
  /** The local driver's state directory: the cloud side's ground truth. */
  readonly stateDir: string;
  readonly client: GatewayClient;
  gateway: AgentProcess;
  cloud: AgentProcess;
  /** Starts the agent again with the same configuration and database. */
  restart(which: 'gateway' | 'cloud'): AgentProcess;
  /** `kill -9`; resolves once the process is gone. */
  kill(which: 'gateway' | 'cloud'): Promise<void>;
  /** Starts again whichever agent is not running, and waits for the cloud to be online. */
  ensureRunning(): Promise<void>;
  /** Stops ejabberd and starts it again on the same directory and ports. */
  restartServer(downMs: number): Promise<void>;
  /** Stops everything, newest first; instances the cloud agent left are terminated. */
  stop(): Promise<void>;
}

export async function startSystem(prefix: string): Promise<System> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // ejabberd runs as its own user and must reach its directory inside this one.
  chmodSync(dir, 0o711);
  watchOver(dir, { remove: !process.env.FAULTS_KEEP });
  const log = createLogger({ level: process.env.TEST_LOG ?? 'silent' });
  let server: EjabberdServer | undefined;
  const procs: Partial<Record<'gateway' | 'cloud', AgentProcess>> = {};
  let client: GatewayClient | undefined;
  const stop = async () => {
    await client?.close().catch(() => {});
    for (const w of ['gateway', 'cloud'] as const) await procs[w]?.stop(5000);
    await terminateLocalInstances(join(dir, CLOUD_NAME, 'instances')).catch(() => 0);
    await server?.stop().catch(() => {});
    // Whatever a failed test left (an instance its cloud agent lost track of, an agent that would not stop).
    killProcessesOf(dir);
    if (!process.env.FAULTS_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  try {
    server = await startServer({
      dir: join(dir, 'ejabberd'),
      c2sPort: 0,
      componentPort: 0,
      say: () => {},
      agents: [GATEWAY_JID, CLOUD_JID],
    });
    const info = server.info;
    const passwords = await createAccounts(server);
    const files = writeConfigs(dir, info, passwords);
    mkdirSync(files.cloudState, { recursive: true });
    editIniFile(files.gateway, {
      gateway: {
        heartbeat_timeout: `${HEARTBEAT_TIMEOUT_S}s`,
        ready_timeout: '90s',
        placement_timeout: '60s',
        terminate_timeout: '10s',
        tick: '500ms',
      },
    });
    editIniFile(files.cloud, {
      cloud: { poll_interval: '1s' },
      // Room for 50 plus the replacements of lost ones that are still being terminated.
      driver: { max_instances: 120, cores: 240, memory_mb: 240 * 1024, kill_grace_ms: 1000 },
      quota: { instances: 120 },
      instances: { heartbeat_interval: `${HEARTBEAT_INTERVAL_S}s`, metrics_interval: '60s', token_ttl: '1h' },
    });
    const spawn = (which: 'gateway' | 'cloud') => {
      const name = which === 'gateway' ? 'gateway' : CLOUD_NAME;
      const p = spawnAgent(
        name,
        [process.execPath, cli, 'agent', which, '--config', which === 'gateway' ? files.gateway : files.cloud],
        join(dir, `${name}.log`),
      );
      procs[which] = p;
      return p;
    };
    spawn('cloud');
    spawn('gateway');
    client = await connect(info, passwords.user, log);
    const sys: System = {
      dir,
      server,
      files,
      stateDir: join(files.cloudState, 'instances'),
      client,
      get gateway() {
        return procs.gateway!;
      },
      get cloud() {
        return procs.cloud!;
      },
      restart: spawn,
      async kill(which) {
        const p = procs[which]!;
        process.kill(p.pid, 'SIGKILL');
        await p.exited;
      },
      async ensureRunning() {
        if (!(await server!.status()).running) await server!.start();
        for (const w of ['cloud', 'gateway'] as const) if (!procs[w]!.running) spawn(w);
        await cloudOnline(client!);
      },
      async restartServer(downMs) {
        await server!.stop();
        await sleep(downMs);
        await server!.start();
      },
      stop,
    };
    await cloudOnline(client);
    return sys;
  } catch (err) {
    const logs = Object.values(procs)
      .map((p) => `--- ${p!.name} ---\n${p!.logTail(20)}`)
      .join('\n');
    await stop();
    throw new Error(`could not start the system: ${(err as Error).message}\n${logs}`, { cause: err });
  }
}

async function connect(
  info: EjabberdServer['info'],
  password: string,
  log: ReturnType<typeof createLogger>,
): Promise<GatewayClient> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await GatewayClient.connect({
        server: `${info.ip}:${info.c2sPort}`,
        jid: `${DEMO_USER}/faults`,
        password,
        ca: readFileSync(info.certFile, 'utf8'),
        gateway: GATEWAY_JID,
        gatewayTimeoutMs: 15_000,
        log,
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

async function cloudOnline(client: GatewayClient): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await client.clouds()).find((c) => c.jid === CLOUD_JID)?.online) {
    if (Date.now() > deadline)
      throw new Error(`cloud agent ${CLOUD_JID} did not come online at the gateway within 30 s`);
    await sleep(200);
  }
}

/** One fixed head and 49 scalable workers: 50 instances, placed in two stages. */
export const CLUSTER = (name: string) => `[cluster]
name = ${name}

[service.head]
type = fixed
order = 1
flavor = small
image = cernvm-4
context = node

[service.worker]
type = scalable
depends = head
min = 1
initial = 49
max = 60
flavor = small
image = cernvm-4
context = node
`;

export const CONTEXT = `[amiconfig]
plugins = environment

[environment]
ROLE = fault-test
`;
