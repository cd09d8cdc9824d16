/**
 * The demo's project-local ejabberd: fixed, well-known ports (so a chat client can be
 * pointed at them) unless they are taken, in which case free ones, said out loud. The
 * instances get their own XMPP host with its own JWT key, as the design asks: the cloud
 * agent's key then mints only its instances' logins.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { EjabberdServer, freePort, portInUse } from '../../ejabberd/index.js';

export const DEMO_HOST = 'localhost';
export const INSTANCE_HOST = 'instances.localhost';

export interface ServerSettings {
  dir: string;
  c2sPort: number;
  componentPort: number;
  say: (line: string) => void;
  /** The gateway and cloud agents: they alone create PubSub nodes and are not shaped. */
  agents: string[];
}

/** Stops an ejabberd a previous run left behind in `dir` (killed before it could clean up). */
export async function stopStaleServer(dir: string, say: (line: string) => void): Promise<void> {
  if (!existsSync(join(dir, 'server.json'))) return;
  const old = EjabberdServer.load(dir);
  if ((await old.status()).running) {
    say(`stopping the ejabberd a previous demo left running in ${dir}`);
    await old.stop(5000);
  }
}

export async function pickPort(wanted: number, what: string, say: (line: string) => void): Promise<number> {
  if (wanted === 0) return freePort('127.0.0.1');
  if (!(await portInUse(wanted, '127.0.0.1'))) return wanted;
  const p = await freePort('127.0.0.1');
  say(`port ${wanted} (${what}) is busy: using ${p} instead`);
  return p;
}

export async function startServer(s: ServerSettings): Promise<EjabberdServer> {
  const c2sPort = await pickPort(s.c2sPort, 'XMPP clients', s.say);
  const componentPort = await pickPort(s.componentPort, 'XMPP components', s.say);
  const server = await EjabberdServer.prepare({
    dir: s.dir,
    host: DEMO_HOST,
    extraHosts: [{ name: INSTANCE_HOST, ownJwtKey: true }],
    c2sPort,
    componentPort,
    logLevel: 'warning',
    nodeName: `cgdemo${process.pid}`,
    agents: s.agents,
  });
  // Not detached: the server must not outlive the demo, even if the demo is killed.
  await server.start();
  return server;
}
