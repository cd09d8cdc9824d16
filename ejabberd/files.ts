/**
 * The server directory's secrets and who may read them: the Erlang cookie, JWT keys, the
 * TLS certificate, and ownership by the server's user, who must be able to reach it.
 */
import { chmodSync, chownSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { EjabberdError } from './errors.js';

const execFileP = promisify(execFile);

/**
 * The server runs as the package's user with no supplementary groups: each directory above
 * its own must let that user through, or it dies at start reading its cookie.
 */
export function checkReachable(dir: string, runAs: { uid: number; gid: number; name: string }): void {
  for (let d = dirname(dir); ; d = dirname(d)) {
    const st = statSync(d);
    const through = st.uid === runAs.uid ? st.mode & 0o100 : st.gid === runAs.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!through) {
      throw new EjabberdError(
        `cannot use ${dir} for ejabberd: it runs as user ${runAs.name}, which may not enter ${d} (mode ${(st.mode & 0o777).toString(8)}); choose a directory that user can reach, or chmod o+x ${d}`,
      );
    }
    if (d === dirname(d)) return;
  }
}

/**
 * Erlang reads the cookie from $HOME/.erlang.cookie and refuses one that others can read.
 * A cookie an earlier version kept in conf/cookie is moved there, so a running node
 * prepared by it can still be reached.
 */
export function writeCookie(dir: string): void {
  const file = join(dir, '.erlang.cookie');
  const old = join(dir, 'conf', 'cookie');
  if (!existsSync(file)) {
    writeFileSync(file, existsSync(old) ? readFileSync(old, 'utf8').trim() : randomBytes(18).toString('hex'), {
      mode: 0o400,
    });
  }
  rmSync(old, { force: true });
  chmodSync(file, 0o400);
}

export function writeJwk(file: string): void {
  writeFileSync(file, JSON.stringify({ kty: 'oct', k: randomBytes(32).toString('base64url') }), { mode: 0o600 });
}

export async function makeCertificate(conf: string, hosts: string[]): Promise<void> {
  const san = [...new Set(hosts.flatMap((h) => [h, `*.${h}`]))].map((h) => `DNS:${h}`).join(',');
  const key = join(conf, 'server.key');
  const crt = join(conf, 'server.crt');
  try {
    await execFileP('openssl', [
      'req',
      '-x509',
      // ECDSA P-256: a TLS handshake signs with this key, and a P-256 signature costs the
      // server a small fraction of an RSA-2048 one, which counts in a login storm.
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      crt,
      '-days',
      '3650',
      '-subj',
      `/CN=${hosts[0]}`,
      '-addext',
      `subjectAltName=${san}`,
    ]);
  } catch (err) {
    throw new EjabberdError(
      'could not create the self-signed certificate (is the Debian package "openssl" installed?)',
      '',
      { cause: err },
    );
  }
  writeFileSync(join(conf, 'server.pem'), readFileSync(crt, 'utf8') + readFileSync(key, 'utf8'), { mode: 0o600 });
}

export function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}
