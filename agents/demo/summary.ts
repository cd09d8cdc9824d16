/** What the demo tells a person once the cluster is up: what runs where, and how to talk to it. */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { DeploymentView } from '../gateway/index.js';
import type { ServerInfo } from '../../ejabberd/index.js';
import { CLOUD_JID, DEMO_USER, GATEWAY_JID, type DemoFiles } from './configs.js';

export interface SummaryInput {
  root: string;
  dir: string;
  files: DemoFiles;
  info: ServerInfo;
  d: DeploymentView;
  readyAfterS: number;
  logs: { gateway: string; cloud: string };
  chatPasswordFile?: string;
  /** The gateway's HTTP API. */
  httpUrl: string;
}

export function summary(s: SummaryInput): string {
  const rel = (p: string) => {
    const r = relative(s.root, p);
    return r.startsWith('..') ? p : r;
  };
  const cli = `node ${rel(join(s.root, 'dist', 'agents', 'cli.js'))}`;
  const cfg = `--config ${rel(s.files.client)}`;
  const w = (xs: string[]) => Math.max(...xs.map((x) => x.length));
  const names = s.d.instances.map((i) => i.name);
  const instances = s.d.instances.map((i) => {
    const where = i.cloud_instance_id
      ? `local process, ${rel(join(s.files.cloudState, 'instances', i.cloud_instance_id))}/`
      : 'not created yet';
    return `    ${i.name.padEnd(w(names))}  ${i.service.padEnd(8)} ${i.state.padEnd(9)} ${i.ready ? 'ready' : 'not ready'}  ${i.cloud}: ${where}`;
  });
  // server.pem also holds the server's key: point people at the certificate alone.
  const crt = join(dirname(s.info.certFile), 'server.crt');
  const cert = existsSync(crt) ? crt : s.info.certFile;
  const chat = s.chatPasswordFile
    ? [
        `  chat:  log in to ${s.info.ip}:${s.info.c2sPort} as ${DEMO_USER} (password in ${rel(s.chatPasswordFile)};`,
        `         the certificate is self-signed: trust ${rel(cert)} or accept it),`,
        `         then send "help" to ${GATEWAY_JID}`,
      ]
    : [`  chat:  no chat account could be registered (see ${rel(join(s.info.dir, 'logs'))})`];
  return [
    '',
    `cluster ${s.d.cluster} is ready after ${s.readyAfterS.toFixed(1)} s: deployment ${s.d.id}, ${s.d.instances.length} instances`,
    ...instances,
    '',
    `  XMPP server  ejabberd on ${s.info.ip}:${s.info.c2sPort} (domain ${s.info.host}), files in ${rel(s.info.dir)}`,
    `  gateway      ${GATEWAY_JID}, log ${rel(s.logs.gateway)}`,
    `  cloud agent  ${CLOUD_JID} (local driver), log ${rel(s.logs.cloud)}`,
    '',
    'Talk to the gateway:',
    `  CLI:   ${cli} status ${s.d.id} ${cfg}`,
    `         ${cli} scale ${s.d.id} worker 5 --wait ${cfg}`,
    `         ${cli} contexts ${cfg}    (--json for scripts; --help for more)`,
    ...chat,
    `  web:   ${s.httpUrl}/web/ (log in as ${DEMO_USER} with the chat password)`,
    `  HTTP:  ${s.httpUrl}/api/v1 (docs ${s.httpUrl}/api/docs); log in as ${DEMO_USER} with the chat password:`,
    `         CLOUDGATE_API_URL=${s.httpUrl} CLOUDGATE_API_CA=${rel(cert)} CLOUDGATE_API_USER=${DEMO_USER} CLOUDGATE_API_PASSWORD=... examples/api.sh`,
    '',
    'Press Ctrl-C to stop everything the demo started.',
  ].join('\n');
}
