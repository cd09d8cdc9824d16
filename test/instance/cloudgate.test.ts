import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseContext, ContextError } from '../../agents/instance/context/index.js';

const PEM = '-----BEGIN CERTIFICATE-----\n    MIIBszCCAVmgAwIBAgIU\n    -----END CERTIFICATE-----';

test('[cloudgate] parses into a typed, frozen object', () => {
  const c = parseContext(
    [
      '[CloudGate]',
      'server = XMPP.example.org:5223',
      'jid = VM-42@I.Cloud-A.example.org/agent',
      'token = eyJhbGciOi.x.y',
      'token_expires = 1767225600',
      'ca =',
      `    ${PEM}`,
      'allow = alice@example.org,  Gateway@Example.org',
      'context_version = 3',
      'context_id = ctx-analysis',
      'deployment = dep-17',
      'service = worker',
      'instance_id = i-0abc',
      'gateway = gateway@example.org',
      'heartbeat_interval = 30',
      'metrics_interval = 7.5',
      'pubsub = pubsub.example.org',
      'x_future = tolerated',
    ].join('\n'),
  );
  const cg = c.cloudgate!;
  assert.deepEqual(cg.server, { host: 'xmpp.example.org', port: 5223 });
  assert.equal(cg.jid, 'vm-42@i.cloud-a.example.org/agent');
  assert.equal(cg.domain, 'i.cloud-a.example.org');
  assert.equal(cg.token, 'eyJhbGciOi.x.y');
  assert.equal(cg.tokenExpires, 1767225600);
  assert.equal(cg.ca, '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n');
  assert.deepEqual(cg.allow, ['alice@example.org', 'gateway@example.org']);
  assert.equal(cg.contextVersion, 3);
  assert.equal(cg.contextId, 'ctx-analysis');
  assert.equal(cg.deployment, 'dep-17');
  assert.equal(cg.service, 'worker');
  assert.equal(cg.instanceId, 'i-0abc');
  assert.equal(cg.gateway, 'gateway@example.org');
  assert.equal(cg.heartbeatInterval, 30);
  assert.equal(cg.metricsInterval, 7.5);
  assert.equal(cg.pubsub, 'pubsub.example.org');
  assert.ok(Object.isFrozen(cg));
  assert.ok(!c.plugins.includes('cloudgate'));
});

test('[cloudgate] defaults: port 5222, IPv6 server, domain from jid, empty allow', () => {
  const cg = parseContext('[cloudgate]\njid = a@b.org\nserver = [::1]:5333\n').cloudgate!;
  assert.deepEqual(cg.server, { host: '::1', port: 5333 });
  assert.equal(cg.domain, 'b.org');
  assert.deepEqual(cg.allow, []);
  assert.equal(parseContext('[cloudgate]\njid = a@b.org\nserver = xmpp\n').cloudgate!.server!.port, 5222);
});

const bad: [string, string, string][] = [
  ['missing jid', 'server = x:1', 'jid'],
  ['unknown key', 'jid = a@b.org\nalow = x@y.org', 'alow'],
  ['bad port', 'jid = a@b.org\nserver = host:99999', 'server'],
  ['allow with resource', 'jid = a@b.org\nallow = x@y.org/res', 'allow'],
  ['version not integer', 'jid = a@b.org\ncontext_version = 2.5', 'context_version'],
  ['version zero', 'jid = a@b.org\ncontext_version = 0', 'context_version'],
  ['expires not a number', 'jid = a@b.org\ntoken_expires = soon', 'token_expires'],
  ['ca not PEM', 'jid = a@b.org\nca = hello', 'ca'],
  ['gateway not a JID', 'jid = a@b.org\ngateway = gateway', 'gateway'],
  ['multi-line token', 'jid = a@b.org\ntoken = a\n  b', 'token'],
];
for (const [name, body, key] of bad) {
  test(`[cloudgate] error: ${name} names line, section and key`, () => {
    const text = `[amiconfig]\nplugins =\n[cloudgate]\n${body}\n`;
    assert.throws(
      () => parseContext(text),
      (err: unknown) => {
        assert.ok(err instanceof ContextError);
        assert.equal(err.code, 'CG_CONTEXT_INVALID');
        assert.equal(err.section, 'cloudgate');
        assert.equal(err.key, key);
        assert.ok(err.line !== undefined && err.line >= 3, `line ${err.line}`);
        assert.match(err.message, /^line \d+ \[cloudgate\] key "/);
        return true;
      },
    );
  });
}
