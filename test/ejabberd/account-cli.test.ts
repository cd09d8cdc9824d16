/**
 * `cloudgate ejabberd account --config <ini>` against a real server taking passwords only
 * on its main host: the account is made, its password reaches only the file, and it logs in.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { EjabberdServer } from '../../ejabberd/index.js';
import { login, readIni } from '../helpers/credentials.js';

const cli = fileURLToPath(new URL('../../agents/cli.js', import.meta.url));
let t: TestServer;
let dir: string;

before(async () => {
  t = await startEjabberd({ operatorJwt: false }, { cleanup: false });
  dir = mkdtempSync(join(tmpdir(), 'cgt-account-'));
  chmodSync(dir, 0o711); // a server prepared below it runs as its own user, which must reach it
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t?.stop();
});

const run = (args: string[]) => execCli(['ejabberd', 'account', '--dir', t.server.dir, ...args]);

function execCli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
    });
  });
}

test("an agent's account is registered and its password written into its file alone", {
  timeout: 120_000,
}, async () => {
  const f = join(dir, 'gateway.ini');
  writeFileSync(f, `[xmpp]\njid = gateway@${t.host}\nserver = 127.0.0.1:1\njwt_key = /somewhere/jwt.jwk\n`, {
    mode: 0o644,
  });
  const r = await run(['--config', f]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`account gateway@localhost ready; its password is in ${f}`));
  const x = readIni(f).xmpp!;
  assert.equal(x.jwt_key, undefined);
  assert.match(x.password!, /^[\w-]{24}$/);
  assert.ok(!r.out.includes(x.password!), 'the password is not printed');
  assert.equal(statSync(f).mode & 0o077, 0);
  await login(t.server.info, `gateway@${t.host}`, x.password!, false);

  // Again: a new password replaces the old one.
  const old = x.password!;
  assert.equal((await run(['--config', f])).code, 0);
  const now = readIni(f).xmpp!.password!;
  assert.notEqual(now, old);
  await login(t.server.info, `gateway@${t.host}`, now, false);
  await assert.rejects(login(t.server.info, `gateway@${t.host}`, old, false), /not-authorized/);
});

test('a JID on a host the server does not serve, a server that is not running, or no file: refused, and nothing is written', {
  timeout: 60_000,
}, async () => {
  const f = join(dir, 'other.ini');
  const text = '[xmpp]\njid = cloud@example.org\njwt_key = /k.jwk\n';
  writeFileSync(f, text);
  const r = await run(['--config', f]);
  assert.notEqual(r.code, 0);
  assert.match(r.out, /\[xmpp\] jid: example\.org is not a host of the server in .* \(hosts: localhost\)/);
  assert.equal(readFileSync(f, 'utf8'), text);
  const stopped = await EjabberdServer.prepare({ dir: join(dir, 'stopped') });
  const local = join(dir, 'local.ini');
  writeFileSync(local, '[xmpp]\njid = cloud@localhost\n');
  const down = await execCli(['ejabberd', 'account', '--dir', stopped.dir, '--config', local]);
  assert.equal(down.code, 1, down.out);
  assert.match(down.out, /account cloud@localhost: the ejabberd in \S+stopped is not running/);
  assert.equal(readFileSync(local, 'utf8'), '[xmpp]\njid = cloud@localhost\n');
  const missing = await run(['--config', join(dir, 'missing.ini')]);
  assert.equal(missing.code, 2);
  assert.match(missing.out, /missing\.ini: cannot read it \(ENOENT\)/);
});
