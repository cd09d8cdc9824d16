/** The gateway's configuration: the documented example parses; mistakes name file, section and key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { engineSettings, parseGatewayConfig } from '../../agents/gateway/index.js';
import { createAccess } from '../../agents/gateway/access.js';
import { memoryModel } from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/gateway.ini', import.meta.url));

test('examples/gateway.ini parses to the documented values', () => {
  const c = parseGatewayConfig(readFileSync(EXAMPLE, 'utf8'), EXAMPLE);
  assert.deepEqual(c.gateway.admins, ['admin@localhost']);
  assert.deepEqual(c.gateway.clouds, ['cloud-local@localhost']);
  assert.match(c.gateway.db, /var\/gateway\/gateway\.db$/);
  assert.deepEqual(c.users?.allow, ['@localhost', 'group:physics']);
  assert.deepEqual(c['group.*'].physics?.members, ['alice@localhost', 'bob@example.org']);
  assert.equal(c.pairing, undefined);
  const s = engineSettings(c.gateway);
  assert.deepEqual(
    [s.heartbeatTimeoutMs, s.readyTimeoutMs, s.placementTimeoutMs, s.drainTimeoutMs, s.tickMs, s.nodeAccess],
    [90_000, 600_000, 60_000, 300_000, 1000, 'whitelist'],
  );
});

test('defaults, and errors naming file, section and key', () => {
  const min = '[xmpp]\njid = gw@example.org\npassword = x\n[gateway]\n';
  const c = parseGatewayConfig(min, '/etc/gw.ini');
  assert.equal(c.gateway.db, '/etc/gateway.db');
  assert.deepEqual(c.gateway.clouds, []);
  assert.equal(c.users, undefined);
  assert.throws(
    () => parseGatewayConfig(`${min}clouds = not a jid@\nheartbeat_timeout = soon\n`, 'gw.ini'),
    (e: Error) =>
      /gw\.ini:\d+ \[gateway\] clouds:/.test(e.message) &&
      /\[gateway\] heartbeat_timeout: expected a duration/.test(e.message),
  );
  assert.throws(
    () => parseGatewayConfig(`${min}[users]\nallow = @bad/domain\n`, 'gw.ini'),
    /\[users\] allow: '@bad\/domain' is not @domain/,
  );
  assert.throws(() => parseGatewayConfig(`${min}admin = x@y\n`, 'gw.ini'), /unknown key \(did you mean 'admins'\?\)/);
});

test("the pairing host is paired machines' alone: not the gateway's, an admin's, a cloud agent's or its users'", () => {
  const pairing = (domain: string) => `[pairing]\nxmpp_domain = ${domain}\njwt_key = /k.jwk\nserver = 127.0.0.1\n`;
  const gw = (gateway: string, users = '', domain = 'paired.example.org') =>
    `[xmpp]\njid = gw@example.org/gw\npassword = x\n[gateway]\n${gateway}\n${users}\n${pairing(domain)}`;
  const clash =
    /gw\.ini \[pairing\] xmpp_domain: \S+ is also the gateway's, an admin's, a cloud agent's or its users' host/;
  assert.throws(() => parseGatewayConfig(gw('', '', 'example.org'), 'gw.ini'), clash);
  assert.throws(() => parseGatewayConfig(gw('admins = root@paired.example.org'), 'gw.ini'), clash);
  assert.throws(() => parseGatewayConfig(gw('clouds = c@Paired.example.org'), 'gw.ini'), clash);
  assert.throws(() => parseGatewayConfig(gw('', '[users]\nallow = @paired.example.org'), 'gw.ini'), clash);
  assert.equal(
    parseGatewayConfig(
      gw('admins = root@example.org\nclouds = c@example.org', '[users]\nallow = @example.org'),
      'gw.ini',
    ).pairing?.xmpp_domain,
    'paired.example.org',
  );
});

test('access: own domain by default, allow patterns, deny wins, admins always', () => {
  const model = memoryModel();
  const a = createAccess({ model, domain: 'example.org', policy: { admins: ['root@other.net'] } });
  assert.ok(a.mayUse('alice@example.org/phone'));
  assert.ok(!a.mayUse('eve@other.net'));
  assert.ok(a.mayUse('root@other.net') && a.isAdmin('Root@Other.net/x'));
  const b = createAccess({
    model,
    domain: 'example.org',
    policy: {
      admins: [],
      allow: ['group:physics', 'carol@x.org'],
      deny: ['bob@example.org'],
      groups: { physics: { members: ['alice@example.org', 'bob@example.org'] } },
    },
  });
  assert.deepEqual(
    ['alice@example.org', 'bob@example.org', 'carol@x.org', 'dave@example.org'].map((j) => b.mayUse(j)),
    [true, false, true, false],
  );
  b.syncGroups();
  const u = b.ensureUser('alice@example.org');
  assert.deepEqual([u.admin, u.groups], [false, ['physics']]);
  assert.throws(
    () => b.requireUser('dave@example.org'),
    (e: { code?: string }) => e.code === 'CG_FORBIDDEN',
  );
});
