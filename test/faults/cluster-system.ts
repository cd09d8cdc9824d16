/**
 * An installation on a two-node ejabberd cluster, as an operator would run it on two
 * hosts (here: one machine, two project-local servers with their own ports and node
 * names, sharing cookie, certificate and JWT keys): node 1 serves the gateway and
 * cloud-a; cloud-b and its instances log in to node 2 and list node 1 as their second
 * server. Agents are OS processes (`cloudgate agent <kind> --config`), the local
 * driver's instances real instance-agent processes.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createLogger, sleep } from '../../core/index.js';
import { EjabberdError, EjabberdServer } from '../../ejabberd/index.js';
import { GatewayClient } from '../../agents/gateway/client.js';
import {
  writeConfigs,
  CLOUD_JID,
  CLOUD_NAME,
  DEMO_USER,
  GATEWAY_JID,
  type DemoFiles,
} from '../../agents/demo/configs.js';
import { DEMO_HOST, INSTANCE_HOST } from '../../agents/demo/server.js';
import { spawnAgent, type AgentProcess } from '../../agents/demo/processes.js';
import { createAccounts } from '../../agents/demo/accounts.js';
import { terminateLocalInstances } from '../../agents/demo/leftovers.js';
import { editIniFile, setIniKeys } from '../helpers/ini.js';
import { killProcessesOf, watchOver } from '../helpers/watchdog.js';
import { HEARTBEAT_INTERVAL_S, HEARTBEAT_TIMEOUT_S } from './system.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist', 'agents', 'cli.js');

export const CLOUD_B = 'cloud-b';
export const CLOUD_B_JID = `${CLOUD_B}@${DEMO_HOST}`;
export { CLOUD_JID as CLOUD_A_JID, CLOUD_NAME as CLOUD_A };

type Which = 'gateway' | 'cloud-a' | 'cloud-b';

export interface ClusterSystem {
  readonly dir: string;
  readonly node1: EjabberdServer;
  readonly node2: EjabberdServer;
  /** How long node 2's join_cluster took (ms). */
  readonly joinMs: number;
  readonly files: DemoFiles & { cloudB: string; cloudBState: string };
  readonly stateDirs: Record<'cloud-a' | 'cloud-b', string>;
  readonly client: GatewayClient;
  procs: Record<Which, AgentProcess>;
  stop(): Promise<void>;
}

export const service = (s: EjabberdServer) => `xmpp://${s.info.ip}:${s.info.c2sPort}`;
const hostPort = (s: EjabberdServer) => `${s.info.ip}:${s.info.c2sPort}`;

export async function startClusterSystem(prefix: string): Promise<ClusterSystem> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o711); // ejabberd runs as its own user and must reach its directories
  watchOver(dir, { remove: !process.env.FAULTS_KEEP });
  const log = createLogger({ level: process.env.TEST_LOG ?? 'silent' });
  const procs: Partial<Record<Which, AgentProcess>> = {};
  const servers: EjabberdServer[] = [];
  let client: GatewayClient | undefined;
  const stop = async () => {
    await client?.close().catch(() => {});
    for (const w of ['gateway', 'cloud-b', 'cloud-a'] as const) await procs[w]?.stop(5000);
    for (const c of [CLOUD_NAME, CLOUD_B]) await terminateLocalInstances(join(dir, c, 'instances')).catch(() => 0);
    for (const s of servers.reverse()) await s.stop().catch(() => {});
    killProcessesOf(dir);
    if (!process.env.FAULTS_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [node1, node2] = await startNodes(dir, servers);
    const t0 = Date.now();
    await node2.joinCluster(node1.info.node);
    const joinMs = Date.now() - t0;

    // Accounts are registered on node 1 and, the tables being shared, valid on node 2.
    const passwords = await createAccounts(node1);
    const cloudBPassword = randomBytes(18).toString('base64url');
    await node1.account(CLOUD_B, DEMO_HOST, cloudBPassword);
    const base = writeConfigs(dir, node1.info, passwords);
    const files = { ...base, cloudB: join(dir, `${CLOUD_B}.ini`), cloudBState: join(dir, CLOUD_B) };
    editIniFile(files.gateway, {
      gateway: {
        clouds: `${CLOUD_JID}, ${CLOUD_B_JID}`,
        heartbeat_timeout: `${HEARTBEAT_TIMEOUT_S}s`,
        ready_timeout: '90s',
        placement_timeout: '60s',
        terminate_timeout: '10s',
        tick: '500ms',
      },
    });
    const cloudTuning = {
      cloud: { poll_interval: '1s' },
      driver: { max_instances: 60, cores: 120, memory_mb: 120 * 1024, kill_grace_ms: 1000 },
      quota: { instances: 60 },
      instances: { heartbeat_interval: `${HEARTBEAT_INTERVAL_S}s`, metrics_interval: '60s', token_ttl: '1h' },
    };
    editIniFile(files.cloud, cloudTuning);
    // cloud-b: node 2 first, node 1 second, for itself and for the instances it creates.
    const cluster = `${hostPort(node2)}, ${hostPort(node1)}`;
    const text = readFileSync(files.cloud, 'utf8')
      .replaceAll(join(dir, CLOUD_NAME), files.cloudBState)
      .replace(/^jid = .*$/m, `jid = ${CLOUD_B_JID}`)
      .replace(/^password = .*$/m, `password = ${cloudBPassword}`);
    writeFileSync(
      files.cloudB,
      setIniKeys(text, {
        xmpp: { servers: cluster, resource: 'cloud' },
        cloud: { name: CLOUD_B },
        instances: { servers: cluster },
      }),
      { mode: 0o600 },
    );
    for (const d of [files.cloudState, files.cloudBState]) mkdirSync(d, { recursive: true });

    const spawn = (which: Which) => {
      const file = which === 'gateway' ? files.gateway : which === 'cloud-a' ? files.cloud : files.cloudB;
      const kind = which === 'gateway' ? 'gateway' : 'cloud';
      const p = spawnAgent(which, [process.execPath, cli, 'agent', kind, '--config', file], join(dir, `${which}.log`));
      procs[which] = p;
      return p;
    };
    spawn('cloud-a');
    spawn('cloud-b');
    spawn('gateway');
    client = await connect(node1, passwords.user, log);
    const c = client;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const clouds = await c.clouds().catch(() => []);
      if ([CLOUD_JID, CLOUD_B_JID].every((j) => clouds.find((x) => x.jid === j)?.online)) break;
      if (Date.now() > deadline) throw new Error(`both clouds online at the gateway: ${JSON.stringify(clouds)}`);
      await sleep(250);
    }
    return {
      dir,
      node1,
      node2,
      joinMs,
      files,
      stateDirs: { 'cloud-a': join(files.cloudState, 'instances'), 'cloud-b': join(files.cloudBState, 'instances') },
      client: c,
      procs: procs as Record<Which, AgentProcess>,
      stop,
    };
  } catch (err) {
    const logs = Object.values(procs)
      .map((p) => `--- ${p!.name} ---\n${p!.logTail(20)}`)
      .join('\n');
    await stop();
    throw new Error(`could not start the cluster system: ${(err as Error).message}\n${logs}`, { cause: err });
  }
}

/**
 * Both nodes, started. Free ports are picked before ejabberd binds them: a port a parallel
 * test took in between fails the start, which is retried on fresh ports and node names.
 */
async function startNodes(dir: string, servers: EjabberdServer[]): Promise<[EjabberdServer, EjabberdServer]> {
  const common = {
    host: DEMO_HOST,
    extraHosts: [{ name: INSTANCE_HOST, ownJwtKey: true }],
    logLevel: 'warning' as const,
    // probe-a: the test's own agent, which makes a PubSub node.
    agents: [GATEWAY_JID, CLOUD_JID, CLOUD_B_JID, `probe-a@${DEMO_HOST}`],
    cluster: true,
  };
  for (let attempt = 1; ; attempt++) {
    const tag = randomBytes(3).toString('hex');
    const node1 = await EjabberdServer.prepare({ ...common, dir: join(dir, 'node1'), nodeName: `cgc1${tag}` });
    servers.push(node1);
    const node2 = await EjabberdServer.prepare({
      ...common,
      dir: join(dir, 'node2'),
      nodeName: `cgc2${tag}`,
      shareFrom: node1.dir,
      peers: [{ node: node1.info.node, distPort: node1.info.distPort }],
    });
    servers.push(node2);
    node1.addPeer({ node: node2.info.node, distPort: node2.info.distPort });
    try {
      await Promise.all([node1.start(), node2.start()]);
      return [node1, node2];
    } catch (err) {
      if (attempt >= 3 || !(err instanceof EjabberdError && /in use|eaddrinuse/i.test(err.message))) throw err;
      for (const s of servers.splice(0)) {
        await s.stop().catch(() => {});
        s.remove();
      }
    }
  }
}

async function connect(
  node: EjabberdServer,
  password: string,
  log: ReturnType<typeof createLogger>,
): Promise<GatewayClient> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await GatewayClient.connect({
        server: hostPort(node),
        jid: `${DEMO_USER}/cluster`,
        password,
        ca: readFileSync(node.info.certFile, 'utf8'),
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
