import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../core/index.js';
import { resolveClientOptions, parseServer, exitCodeFor } from '../../agents/gateway/client.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cgt-clientcfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

test('the documented example file parses; relative paths resolve next to it', () => {
  copyFileSync(join(root, 'examples', 'demo', 'client.ini'), join(dir, 'client.ini'));
  const o = resolveClientOptions({ config: join(dir, 'client.ini') }, {});
  assert.equal(o.jid, 'ada@example.org');
  assert.equal(o.server, 'xmpp.example.org:5222');
  assert.equal(o.password, 'change-me');
  assert.equal(o.gateway, 'gateway@example.org');
  assert.match(o.ca ?? '', /BEGIN CERTIFICATE/);
  assert.equal(o.configFile, join(dir, 'client.ini'));
});

test('flags beat the environment, which beats the file; credentials come as one unit', () => {
  const file = join(dir, 'c.ini');
  writeFileSync(file, '[xmpp]\njid = file@example.org\nserver = file.example.org\npassword = from-file\n');
  const env = { CLOUDGATE_JID: 'env@example.org', CLOUDGATE_TOKEN: 'tok', CLOUDGATE_GATEWAY: 'gw@example.org' };
  const o = resolveClientOptions({ config: file, jid: 'flag@example.org' }, env);
  assert.equal(o.jid, 'flag@example.org');
  assert.equal(o.server, 'file.example.org');
  assert.deepEqual(
    [o.password, o.token],
    [undefined, 'tok'],
    'the token from the environment replaces the file password',
  );
  assert.equal(o.gateway, 'gw@example.org');
  const k = resolveClientOptions({ config: file, jwtKey: '/k.jwk' }, env);
  assert.deepEqual([k.password, k.token, k.jwtKey], [undefined, undefined, '/k.jwk']);
});

test('the default file is read only when it exists; missing pieces are named', () => {
  const env = { XDG_CONFIG_HOME: join(dir, 'nothing-here') };
  assert.throws(
    () => resolveClientOptions({}, env),
    (e: unknown) => e instanceof ConfigError && /no jid .* and no server/.test(e.message) && exitCodeFor(e) === 2,
  );
  assert.throws(() => resolveClientOptions({ jid: 'a@b', server: 'b' }, env), /no credentials: set CLOUDGATE_PASSWORD/);
  assert.throws(
    () => resolveClientOptions({ config: join(dir, 'absent.ini') }, env),
    /absent\.ini: cannot read configuration/,
  );
  const typo = join(dir, 'typo.ini');
  writeFileSync(typo, '[xmpp]\nsever = x:1\n');
  assert.throws(
    () => resolveClientOptions({ config: typo }, {}),
    /typo\.ini:2 \[xmpp\] sever: unknown key \(did you mean 'server'\?\)/,
  );
});

test('server addresses', () => {
  assert.equal(parseServer('127.0.0.1:15222'), 'xmpp://127.0.0.1:15222');
  assert.equal(parseServer('xmpp://example.org'), 'xmpp://example.org:5222');
  assert.equal(parseServer('[::1]:5223'), 'xmpp://[::1]:5223');
  assert.throws(() => parseServer('a:b:c'), ConfigError);
  assert.throws(() => parseServer('host:70000'), /out of range/);
});
