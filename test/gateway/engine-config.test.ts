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
  assert.deepEqual([s.heartbeatTimeoutMs, s.readyTimeoutMs, s.placementTimeoutMs, s.drainTimeoutMs, s.tickMs, s.nodeAccess],
    [90_000, 600_000, 60_000, 300_000, 1000, 'whitelist']);
});

test('defaults, and errors naming file, section and key', () => {
  const min = '[xmpp]\njid = gw@example.org\npassword = x\n[gateway]\n';
  const c = parseGatewayConfig(min, '/etc/gw.ini');
  assert.equal(c.gateway.db, '/etc/gateway.db');
  assert.deepEqual(c.gateway.clouds, []);
  assert.equal(c.users, undefined);
  assert.throws(() => parseGatewayConfig(`${min}clouds = not a jid@\nheartbeat_timeout = soon\n`, 'gw.ini'),
    (e: Error) => /gw\.ini:\d+ \[gateway\] clouds:/.test(e.message) && /\[gateway\] heartbeat_timeout: expected a duration/.test(e.message));
  assert.throws(() => parseGatewayConfig(`${min}[users]\nallow = @bad/domain\n`, 'gw.ini'), /\[users\] allow: '@bad\/domain' is not @domain/);
  assert.throws(() => parseGatewayConfig(`${min}admin = x@y\n`, 'gw.ini'), /unknown key \(did you mean 'admins'\?\)/);
});

test('access: own domain by default, allow patterns, deny wins, admins always', () => {
  const model = memoryModel();
  const a = createAccess({ model, domain: 'example.org', policy: { admins: ['root@other.net'] } });
  assert.ok(a.mayUse('alice@example.org/phone'));
  assert.ok(!a.mayUse('eve@other.net'));
  assert.ok(a.mayUse('root@other.net') && a.isAdmin('Root@Other.net/x'));
  const b = createAccess({
    model, domain: 'example.org',
    policy: { admins: [], allow: ['group:physics', 'carol@x.org'], deny: ['bob@example.org'], groups: { physics: { members: ['alice@example.org', 'bob@example.org'] } } },
  });
  assert.deepEqual(['alice@example.org', 'bob@example.org', 'carol@x.org', 'dave@example.org'].map((j) => b.mayUse(j)), [true, false, true, false]);
  b.syncGroups();
  const u = b.ensureUser('alice@example.org');
  assert.deepEqual([u.admin, u.groups], [false, ['physics']]);
  assert.throws(() => b.requireUser('dave@example.org'), (e: { code?: string }) => e.code === 'CG_FORBIDDEN');
});
