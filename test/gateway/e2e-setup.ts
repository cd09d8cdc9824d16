/**
 * The whole path for end-to-end tests: a real ejabberd with its own XMPP host (and JWT
 * key) for instances, real cloud agents (agents/cloud) on the local or libvirt test
 * driver, whose instances are real instance agent processes (dist/agents/instance/main.js),
 * and the gateway under test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCloudAgent, loadCloudConfig, type CloudAgent } from '../../agents/cloud/index.js';
import type { Instance } from '../../drivers/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { instancesSection, startServer } from '../cloud/helpers.js';
import { silent } from '../helpers/agents.js';
import { alive } from '../helpers/guest.js';
import { watchOver } from '../helpers/watchdog.js';
import type { Agent } from '../../core/index.js';
import { gateway as gw } from '../../protocols/index.js';
import { clusterIni, prepare, status, until } from './harness.js';

type DeploymentView = Awaited<ReturnType<typeof status>>;

export { startServer };

export interface CloudSpec {
  name: string;
  driver: 'local' | 'libvirt';
  quota?: number;
  /** [acl] users (default * on libvirt, alice on local: there they are made the cloud's admins, as it requires). */
  users?: string;
  gateway: string;
  /** local driver `images` (default test-image). */
  images?: string;
  /** INI text appended to the file (more [image.*] maps, [trust], [images]). */
  extra?: string;
  /** [instances] metrics_interval (default: the cloud agent's). */
  metricsInterval?: string;
}

/** Writes a cloud agent configuration and starts the agent in this process. */
export async function startCloud(t: TestServer, dir: string, c: CloudSpec): Promise<CloudAgent> {
  const d = join(dir, c.name);
  const users = c.users ?? (c.driver === 'local' ? `alice@${t.host}` : '*');
  mkdirSync(d, { recursive: true });
  // Local instances outlive their cloud agent on purpose: a test that ends without
  // destroying its deployments (or fails before) leaves none running once it is gone.
  if (c.driver === 'local') watchOver(join(d, 'state'), { remove: false });
  const driver =
    c.driver === 'local'
      ? `state_dir = ${join(d, 'state')}\nkill_grace_ms = 1000\nmax_instances = 10\nimages = ${c.images ?? 'test-image'}`
      : `uri = test:///default\nconfig_drive_dir = ${join(d, 'drives')}\nimage.test-image = /var/lib/libvirt/images/test.qcow2\nsimulate_guest = true\nkill_grace_ms = 1000\nflavor.small = 1 256`;
  const ini = `
[xmpp]
jid = ${c.name}@${t.host}
server = ${t.server.info.ip}:${t.server.info.c2sPort}
jwt_key = ${t.server.info.jwtKeyFile}
ca = ${t.server.info.certFile}
resource = agent

[cloud]
name = ${c.name}
driver = ${c.driver}
poll_interval = 200ms
db = ${join(d, 'cloud.sqlite')}
requesters = ${c.gateway}
${c.driver === 'local' ? `admins = ${users}` : ''}

[driver]
${driver}

[flavor.small]
id = small
[image.test-image]
id = test-image

[acl]
users = ${users}

[quota]
instances = ${c.quota ?? 10}

${instancesSection(t, '1s')}${c.metricsInterval ? `metrics_interval = ${c.metricsInterval}\n` : ''}
${c.extra ?? ''}`;
  const file = join(d, 'cloud.ini');
  writeFileSync(file, ini);
  const ca = await createCloudAgent(loadCloudConfig(file), { log: silent });
  await ca.start();
  return ca;
}

/** Instances the cloud's driver still runs (not terminated), and their processes. */
export async function running(ca: CloudAgent): Promise<Instance[]> {
  return (await ca.driver.describe()).filter((i) => i.state !== 'terminated');
}

/** Processes (local instances, simulated guests) still alive. */
export async function liveProcesses(ca: CloudAgent): Promise<number[]> {
  const pids = (await ca.driver.describe())
    .map((i) => Number(i.extra.pid ?? (i.extra.guest as { pid?: number } | undefined)?.pid))
    .filter((p) => p > 0);
  return pids.filter(alive);
}

/** Stores the batch cluster (head and workers with context `node`), deploys it, and waits until it completed. */
export async function deployBatch(
  alice: Agent,
  gwJid: string,
  o: { timeoutMs: number; pollMs: number },
): Promise<{ id: string; d: DeploymentView }> {
  await prepare(alice, gwJid, clusterIni({ initial: 1 }).replace(/^image = /gm, 'context = node\nimage = '));
  const id = (await alice.request(gw.Deploy, gwJid, { cluster: 'batch', counts: undefined, passphrase: undefined }))
    .deployment.id;
  const d = await until(
    'completed',
    async () => {
      const x = await status(alice, gwJid, id);
      return x.state === 'completed' ? x : undefined;
    },
    o.timeoutMs,
    o.pollMs,
  );
  return { id, d };
}

/** Scales the batch's workers to 2 and waits until both are ready. */
export async function scaleWorkersTo2(
  alice: Agent,
  gwJid: string,
  id: string,
  o: { timeoutMs: number; pollMs: number },
): Promise<DeploymentView> {
  await alice.request(gw.Scale, gwJid, { deployment: id, service: 'worker', count: 2 });
  return until(
    '2 workers ready',
    async () => {
      const x = await status(alice, gwJid, id);
      return x.services[1]!.ready === 2 ? x : undefined;
    },
    o.timeoutMs,
    o.pollMs,
  );
}
