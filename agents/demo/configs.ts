/**
 * The demo's INI files, written into its directory so a person can read (and reuse) what
 * each agent was started with: the gateway, one cloud agent with the local driver, and a
 * client file for the CLI. Each logs in with its own account's password (accounts.ts);
 * the cloud agent also holds the instance host's own key, which mints only its
 * instances' logins. The server's operator key is in none of them.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServerInfo } from '../../ejabberd/index.js';
import { DEMO_HOST, INSTANCE_HOST } from './server.js';
import { CLOUD_NAME, GATEWAY_USER, USER, type DemoPasswords } from './accounts.js';

export { CLOUD_NAME };
export const GATEWAY_JID = `${GATEWAY_USER}@${DEMO_HOST}`;
export const CLOUD_JID = `${CLOUD_NAME}@${DEMO_HOST}`;
export const DEMO_USER = `${USER}@${DEMO_HOST}`;

export interface DemoFiles {
  gateway: string;
  cloud: string;
  client: string;
  cloudState: string;
  gatewayDb: string;
}

function xmpp(info: ServerInfo, jid: string, password: string, resource?: string): string {
  // server.pem also holds the server's private key; clients need only the certificate.
  const crt = join(dirname(info.certFile), 'server.crt');
  return `[xmpp]
jid = ${jid}
server = ${info.ip}:${info.c2sPort}
password = ${password}
ca = ${existsSync(crt) ? crt : info.certFile}
${resource ? `resource = ${resource}\n` : ''}`;
}

/** `httpPort`: serve the HTTP API there (left out: no [http] section). */
export function writeConfigs(dir: string, info: ServerInfo, passwords: DemoPasswords, httpPort?: number): DemoFiles {
  const files: DemoFiles = {
    gateway: join(dir, 'gateway.ini'),
    cloud: join(dir, `${CLOUD_NAME}.ini`),
    client: join(dir, 'client.ini'),
    cloudState: join(dir, CLOUD_NAME),
    gatewayDb: join(dir, 'gateway.db'),
  };
  writeFileSync(
    files.gateway,
    `; The demo's gateway (written by agents/demo; see examples/ for documented files).
${xmpp(info, GATEWAY_JID, passwords.gateway, 'gateway')}
[log]
level = info

[gateway]
db = ${files.gatewayDb}
admins = ${DEMO_USER}
clouds = ${CLOUD_JID}
; Local instances boot in seconds: notice trouble quickly.
heartbeat_timeout = 30s
ready_timeout = 2m
placement_timeout = 30s
terminate_timeout = 20s
tick = 500ms

[users]
allow = @${DEMO_HOST}
${
  httpPort === undefined
    ? ''
    : `
; The HTTP API over HTTPS with the project-local certificate (server.pem holds its key too).
[http]
host = 127.0.0.1
port = ${httpPort}
cert = ${info.certFile}
key = ${info.certFile}
`
}`,
    { mode: 0o600 },
  );

  writeFileSync(
    files.cloud,
    `; The demo's cloud agent: the local driver runs each instance as a local process.
${xmpp(info, CLOUD_JID, passwords.cloud, 'cloud')}
[log]
level = info

[cloud]
name = ${CLOUD_NAME}
driver = local
db = ${join(files.cloudState, 'cloud.db')}
requesters = ${GATEWAY_JID}
admins = ${DEMO_USER}
poll_interval = 1s

[driver]
state_dir = ${join(files.cloudState, 'instances')}
max_instances = 20
kill_grace_ms = 3000
retain_terminated_s = 600

; Generic flavors to the local driver's own. examples/cluster.ini's workers ask for a
; custom size (cores:2,memory:4096): the cloud agent picks the smallest flavor that holds it.
[flavor.small]
id = small
[flavor.medium]
id = medium
[flavor.large]
id = large

[acl]
users = ${DEMO_USER}

[quota]
instances = 20

[instances]
xmpp_domain = ${INSTANCE_HOST}
jwt_key = ${info.hostJwtKeyFiles[INSTANCE_HOST]}
server = ${info.ip}:${info.c2sPort}
ca = ${info.certFile}
heartbeat_interval = 5s
metrics_interval = 30s
`,
    { mode: 0o600 },
  );

  writeFileSync(
    files.client,
    `; For the cloudgate CLI as the demo user, e.g.
;   node dist/agents/cli.js status --config ${files.client}
${xmpp(info, DEMO_USER, passwords.user)}
[gateway]
jid = ${GATEWAY_JID}
`,
    { mode: 0o600 },
  );
  return files;
}
