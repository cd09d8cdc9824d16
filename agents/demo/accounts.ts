/**
 * The demo's XMPP accounts on the main host: the gateway, the cloud agent and the demo
 * user each get a fresh random password, registered (or reset, for a directory an earlier
 * run left) on the server. The main host takes no JWT: a cloud agent's config holds its
 * own password and its instances' host key, so it can log in as nobody else.
 */
import { randomBytes } from 'node:crypto';
import { sleep } from '../../core/index.js';
import type { EjabberdServer } from '../../ejabberd/index.js';
import { DEMO_HOST } from './server.js';

export const GATEWAY_USER = 'gateway';
export const CLOUD_NAME = 'cloud-a';
export const USER = 'demo';

export interface DemoPasswords {
  gateway: string;
  cloud: string;
  user: string;
}

export async function createAccounts(server: EjabberdServer): Promise<DemoPasswords> {
  const pw = () => randomBytes(18).toString('base64url');
  const p: DemoPasswords = { gateway: pw(), cloud: pw(), user: pw() };
  await Promise.all(
    [
      [GATEWAY_USER, p.gateway],
      [CLOUD_NAME, p.cloud],
      [USER, p.user],
    ].map(([u, secret]) => account(server, u!, secret!)),
  );
  return p;
}

async function account(server: EjabberdServer, user: string, password: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await server.account(user, DEMO_HOST, password);
      return;
    } catch (err) {
      // Right after start-up ejabberd may accept connections before its commands are ready.
      if (attempt >= 4) throw err;
      await sleep(1000);
    }
  }
}
