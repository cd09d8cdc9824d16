/**
 * Checks on the credentials an agent's config file hands it: it holds nothing of the
 * operator's key, and what it does hold logs in as itself (and its instances) only.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'ini';
import { Connection } from '../../core/connection.js';
import { loadJwtKey, mintToken } from '../../core/jwt.js';
import type { ServerInfo } from '../../ejabberd/index.js';
import { silent } from './agents.js';

/** No setting of a written file names the operator key's file, none holds its secret; each is private. */
export function assertNoOperatorKey(info: ServerInfo, files: string[]): void {
  const secret = (JSON.parse(readFileSync(info.jwtKeyFile, 'utf8')) as { k: string }).k;
  assert.ok(secret.length >= 32);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    // Comments may warn about the key; no setting may name it.
    const settings = text
      .split('\n')
      .filter((l) => !/^\s*[;#]/.test(l))
      .join('\n');
    assert.ok(!settings.includes(info.jwtKeyFile), `${f} names the operator key ${info.jwtKeyFile}`);
    assert.ok(!/\bjwt\.jwk\b/.test(settings), `${f} names a jwt.jwk`);
    assert.ok(!text.includes(secret), `${f} holds the operator key's secret`);
    assert.equal(statSync(f).mode & 0o077, 0, `${f} is readable by others`);
  }
}

export function readIni(file: string): Record<string, Record<string, string>> {
  return parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
}

export function login(info: ServerInfo, jid: string, secret: string, isToken: boolean): Promise<void> {
  const [username, domain] = jid.split('@') as [string, string];
  const c = new Connection({
    kind: 'client',
    service: `xmpp://${info.ip}:${info.c2sPort}`,
    domain,
    username,
    password: secret,
    isToken,
    ca: readFileSync(info.certFile, 'utf8'),
    log: silent,
    maxStartAttempts: 1,
  });
  return c.start().then(() => c.stop());
}

export async function token(keyFile: string, jid: string): Promise<string> {
  return (await mintToken(await loadJwtKey(keyFile), jid, 60)).token;
}

const refused = (e: any) => e.permanent === true && /not-authorized/.test(e.message);

/**
 * A cloud agent's config: its [xmpp] password logs in as its own JID, its [instances]
 * key as an instance; neither (password, or a token from the key) as any of `others`.
 */
export async function assertCloudAgentScoped(info: ServerInfo, cloudIni: string, others: string[]): Promise<void> {
  const c = readIni(cloudIni);
  const own = c.xmpp!.jid!;
  const password = c.xmpp!.password!;
  const key = resolve(dirname(cloudIni), c.instances!.jwt_key!);
  const domain = c.instances!.xmpp_domain!;
  assert.ok(password && key && domain, `${cloudIni} has [xmpp] password, [instances] jwt_key and xmpp_domain`);
  assert.equal(c.xmpp!.jwt_key, undefined, `${cloudIni} [xmpp] holds no key`);
  await login(info, own, password, false);
  await login(info, `vm-1@${domain}`, await token(key, `vm-1@${domain}`), true);
  for (const jid of others) {
    await assert.rejects(login(info, jid, password, false), refused, `${jid} with the cloud agent's password`);
    await assert.rejects(login(info, jid, await token(key, jid), true), refused, `${jid} with the instance host's key`);
  }
}
