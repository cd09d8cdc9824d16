/**
 * What the deploy benchmark writes into its directory: INI files for a gateway and one
 * cloud agent (each logs in with its own account's password; instances get the instance
 * host's own key; the server's operator key is in neither), the driver's options, a
 * one-service cluster and its context.
 *
 * The libvirt driver runs on libvirt's test hypervisor with a node description of our own
 * (test:///<dir>/node.xml): test:///default describes a 16-CPU, 3 GiB host, on which the
 * cloud agent's capacity check admits 14 one-core instances, not 100. Its domains are as
 * real to libvirt as test:///default's; the node is only big enough.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServerInfo } from '../../ejabberd/index.js';

export type DriverKind = 'libvirt' | 'local' | 'openstack';
export const DRIVERS: readonly DriverKind[] = ['libvirt', 'local', 'openstack'];

export const CLOUD = 'cloud-a';
export const CLUSTER = 'bench';
export const SERVICE = 'worker';
/** A context the instance agent can apply for real (local driver) in no time. */
export const CONTEXT = '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = bench\n';

export interface DeployFiles {
  gateway: string;
  cloud: string;
  cluster: string;
  cloudDb: string;
}

export interface FileOptions {
  dir: string;
  info: ServerInfo;
  instanceHost: string;
  user: string;
  driver: DriverKind;
  count: number;
  pollS: number;
  /** The passwords of the gateway's and the cloud agent's accounts on the main host. */
  passwords: { gateway: string; cloud: string };
  /** openstack: Keystone URL and the project's credentials (written into the cloud agent's file). */
  access?: Readonly<Record<string, string>>;
}

/**
 * The driver's own options; `dir` holds its state (drives, instance directories). For
 * openstack, `access` holds the Keystone URL and the project's credentials.
 */
export function driverOptions(
  driver: DriverKind,
  dir: string,
  count: number,
  access: Readonly<Record<string, string>> = {},
): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  if (driver === 'openstack') {
    // The test cloud's smallest flavor and its one image (the fake virt driver reads neither).
    return { ...access, 'flavor.tiny': 'm1.tiny', 'image.cernvm-4': 'cirros', request_timeout_ms: '120000' };
  }
  if (driver === 'local') {
    return {
      state_dir: join(dir, 'instances'),
      max_instances: String(count + 10),
      cores: String(count * 2 + 64),
      memory_mb: String((count + 10) * 1024),
      'flavor.tiny': '1 64',
      images: 'cernvm-4',
      kill_grace_ms: '2000',
    };
  }
  const node = join(dir, 'node.xml');
  writeFileSync(node, nodeXml(Math.max(64, count * 2)));
  return {
    uri: `test://${node}`,
    config_drive_dir: join(dir, 'drives'),
    // The test hypervisor never reads the disk; the path only has to be absolute.
    'image.cernvm-4': '/var/lib/libvirt/images/cernvm4.qcow2',
    'flavor.tiny': '1 64',
  };
}

/** A test-hypervisor host with `cpus` CPUs, 1 TiB of memory and a "default" network. */
function nodeXml(cpus: number): string {
  return `<node>
  <cpu><mhz>2000</mhz><model>x86_64</model><active>${cpus}</active><nodes>1</nodes><sockets>1</sockets><cores>${cpus}</cores><threads>1</threads></cpu>
  <memory>1073741824</memory>
  <network>
    <name>default</name><bridge name="virbr0"/><forward/>
    <ip address="192.168.122.1" netmask="255.255.255.0"><dhcp><range start="192.168.122.2" end="192.168.122.254"/></dhcp></ip>
  </network>
</node>
`;
}

export function writeDeployFiles(o: FileOptions): DeployFiles {
  const { dir, info } = o;
  const host = info.host;
  // server.pem also holds the server's private key; agents need only the certificate.
  const crt = join(dirname(info.certFile), 'server.crt');
  const ca = existsSync(crt) ? crt : info.certFile;
  const xmpp = (jid: string, password: string, resource: string) =>
    `[xmpp]\njid = ${jid}\nserver = ${info.ip}:${info.c2sPort}\npassword = ${password}\nca = ${ca}\nresource = ${resource}\n`;
  const level = process.env.CLOUDGATE_LOG_LEVEL ?? 'warn';
  const files: DeployFiles = {
    gateway: join(dir, 'gateway.ini'),
    cloud: join(dir, `${CLOUD}.ini`),
    cluster: join(dir, 'cluster.ini'),
    cloudDb: join(dir, CLOUD, 'cloud.db'),
  };
  writeFileSync(
    files.gateway,
    `; The deploy benchmark's gateway.
${xmpp(`gateway@${host}`, o.passwords.gateway, 'gateway')}
[log]
level = ${level}

[gateway]
db = ${join(dir, 'gateway.db')}
admins = ${o.user}
clouds = ${CLOUD}@${host}
ready_timeout = 5m

[users]
allow = @${host}
`,
    { mode: 0o600 },
  );

  const driver = Object.entries(driverOptions(o.driver, join(dir, CLOUD), o.count, o.access))
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
  writeFileSync(
    files.cloud,
    `; The deploy benchmark's cloud agent.
${xmpp(`${CLOUD}@${host}`, o.passwords.cloud, 'cloud')}
[log]
level = ${level}

[cloud]
name = ${CLOUD}
driver = ${o.driver}
db = ${files.cloudDb}
requesters = gateway@${host}
admins = ${o.user}
poll_interval = ${o.pollS}s

[driver]
${driver}

[flavor.small]
id = tiny

[image.cernvm-4]
id = cernvm-4

[acl]
users = ${o.driver === 'local' ? o.user : '*'}

[quota]
instances = ${o.count + 10}

[instances]
xmpp_domain = ${o.instanceHost}
jwt_key = ${info.hostJwtKeyFiles[o.instanceHost]}
server = ${info.ip}:${info.c2sPort}
ca = ${ca}
heartbeat_interval = 30s
`,
    { mode: 0o600 },
  );

  writeFileSync(files.cluster, clusterIni(o.count));
  return files;
}

/** One scalable service of `count` instances and nothing else. */
export function clusterIni(count: number): string {
  return `[cluster]
name = ${CLUSTER}
description = deploy benchmark: one scalable service

[service.${SERVICE}]
type = scalable
min = 1
initial = ${count}
max = ${count}
flavor = small
image = cernvm-4
context = node
`;
}
