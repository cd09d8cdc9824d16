/** Configuration and user-data of the cloud agent, without a server. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { ConfigError, redacted } from '../../core/index.js';
import { parseContext } from '../../agents/instance/context/index.js';
import { buildUserData, loadCloudConfig, parseCloudConfig } from '../../agents/cloud/index.js';
import { contextProblem, tokens } from '../../agents/cloud/userdata.js';
import { scrubber } from '../../agents/cloud/errors.js';
import type { RequestRow, InstanceRow } from '../../agents/cloud/index.js';
import { tempDir } from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/cloud-local.ini', import.meta.url));
const tmp = tempDir('config');
after(() => tmp.remove());

const base = (extra = '') => `
[xmpp]
jid = cloud@example.org
password = xmpp-password-1234
[cloud]
name = c1
driver = ec2
db = c1.sqlite
requesters = GW@Example.org
[driver]
region = eu-west-1
access_key_id = AKIDEXAMPLE1234
secret_access_key = very-secret-value-5678
[instances]
xmpp_domain = vms.example.org
jwt_key = key.jwk
server = xmpp.example.org
${extra}`;

describe('cloud agent configuration', () => {
  it('reads the documented example', () => {
    const c = loadCloudConfig(EXAMPLE);
    assert.equal(c.name, 'local');
    assert.equal(c.driver, 'local');
    assert.equal(c.pollMs, 5000);
    assert.deepEqual([...c.requesters], ['gateway@localhost']);
    assert.deepEqual([...c.flavors.keys()], ['small', 'medium', 'large']);
    assert.deepEqual(c.flavors.get('large'), { id: 'large', cores: 4, memoryMb: 8192 });
    assert.equal(c.images.get('cernvm-4'), 'cernvm-4');
    // The local driver without shared admits only its admins.
    assert.deepEqual([...c.acl.users], [...c.admins]);
    assert.equal(c.acl.groups.size, 0);
    assert.equal(c.instances.bootstrapTokenTtlS, 600);
    assert.equal(c.quota.users.get('default')?.instances, 4);
    assert.equal(c.quota.users.get('alice@localhost')?.cores, 12);
    assert.equal(c.quota.groups.get('physics')?.instances, 8);
    assert.deepEqual(c.instances.server, { host: '127.0.0.1', port: 15222 });
    assert.equal(c.instances.heartbeatS, 30);
  });

  it('defaults: nobody in the ACL, 20 instances, 10s polls, lower-cased JIDs', () => {
    const c = parseCloudConfig(base(), join(tmp.dir, 'c.ini'));
    assert.equal(c.acl.users.size + c.acl.groups.size, 0);
    assert.equal(c.quota.total.instances, 20);
    assert.equal(c.quota.total.cores, undefined);
    assert.equal(c.pollMs, 10_000);
    assert.deepEqual([...c.requesters], ['gw@example.org']);
    assert.deepEqual(c.instances.server, { host: 'xmpp.example.org', port: 5222 });
  });

  it('names file, section and key of every problem', () => {
    const bad = base('[quota]\ninstnaces = 3\n[quota.user.not a jid]\ninstances = 1\n').replace(
      'driver = ec2',
      'driver = cloudstack',
    );
    assert.throws(
      () => parseCloudConfig(bad, 'c.ini'),
      (e: Error) =>
        e instanceof ConfigError &&
        /c\.ini:\d+ \[quota\] instnaces: unknown key \(did you mean 'instances'\?\)/.test(e.message) &&
        /\[cloud\] driver: 'cloudstack' is not one of local, libvirt, ec2, openstack/.test(e.message),
    );
    assert.throws(
      () => parseCloudConfig(base().replace('requesters = GW@Example.org', 'requesters ='), 'c.ini'),
      /\[cloud\] requesters: expected at least 1/,
    );
    assert.throws(
      () => parseCloudConfig(base('[quota.user.not a jid]\ninstances = 1\n'), 'c.ini'),
      /\[quota\.user\.not a jid\].*not a valid JID/,
    );
  });

  it('refuses an ACL beyond the admins on the local driver unless it is shared', () => {
    const local = (acl: string, driver = 'state_dir = st\n') =>
      base(`[acl]\n${acl}\n`)
        .replace('driver = ec2', 'driver = local')
        .replace('requesters = GW@Example.org', 'requesters = GW@Example.org\nadmins = Owner@Example.org')
        .replace(/\[driver\][^[]*/, `[driver]\n${driver}`);
    const refused = (text: string, where: RegExp) =>
      assert.throws(
        () => parseCloudConfig(text, 'cloud.ini'),
        (e: Error) =>
          e instanceof ConfigError &&
          where.test(e.message) &&
          /local driver/.test(e.message) &&
          /shared = true/.test(e.message),
      );
    refused(local('users = *'), /^cloud\.ini \[acl\] users: "\*" is not one of the \[cloud\] admins/);
    refused(local('users = owner@example.org bob@example.org'), /^cloud\.ini \[acl\] users: "bob@example\.org"/);
    refused(local('users = owner@example.org\ngroups = physics'), /^cloud\.ini \[acl\] groups: "physics"/);
    assert.deepEqual(
      [...parseCloudConfig(local('users = owner@example.org'), 'cloud.ini').acl.users],
      ['owner@example.org'],
    );
    assert.ok(
      parseCloudConfig(
        local('users = *\ngroups = physics', 'state_dir = st\nshared = true\n'),
        'cloud.ini',
      ).acl.users.has('*'),
    );
    // Other drivers do not run instances as the agent's user.
    assert.ok(parseCloudConfig(base('[acl]\nusers = *\n'), 'cloud.ini').acl.users.has('*'));
  });

  it('checks [driver] against the keys of the driver [cloud] names', () => {
    const local = (driver: string) =>
      base()
        .replace('driver = ec2', 'driver = local')
        .replace(/\[driver\][^[]*/, `[driver]\n${driver}\n`);
    assert.throws(
      () => parseCloudConfig(local('state_dir = /tmp/x\nmax_instance = 5'), 'c.ini'),
      (e: Error) =>
        e instanceof ConfigError &&
        /^c\.ini:\d+ \[driver\] max_instance: unknown key \(did you mean 'max_instances'\?\)$/.test(e.message),
    );
    // Keys of another driver are unknown too; <prefix>.<id> keys are the driver's own.
    assert.throws(
      () => parseCloudConfig(local('state_dir = /tmp/x\nregion = eu-west-1'), 'c.ini'),
      /\[driver\] region: unknown key/,
    );
    const ok = parseCloudConfig(local('state_dir = /tmp/x\nmax_instances = 5\nflavor.tiny = 1 64'), 'c.ini');
    assert.deepEqual(ok.driverOptions, { state_dir: '/tmp/x', max_instances: '5', 'flavor.tiny': '1 64' });
    assert.throws(
      () => parseCloudConfig(local('state_dir = /tmp/x\nflavor = 1 64'), 'c.ini'),
      /\[driver\] flavor: unknown key \(did you mean 'flavor\.<id>'\?\)/,
    );
  });

  it('knows its secrets and redacts them', () => {
    const c = parseCloudConfig(base(), 'c.ini');
    assert.deepEqual([...c.secrets].sort(), ['AKIDEXAMPLE1234', 'very-secret-value-5678', 'xmpp-password-1234'].sort());
    const shown = JSON.stringify(redacted(c.raw));
    for (const s of c.secrets) assert.ok(!shown.includes(s), `${s} shown`);
    assert.match(shown, /eu-west-1/);
    assert.equal(scrubber(c.secrets)('denied for very-secret-value-5678!'), 'denied for [redacted]!');
  });

  it("refuses an instance host that is the agent's own, a requester's or an admin's, and a shared key", () => {
    const host = /\[instances\] xmpp_domain: \S+ is also this agent's, a requester's or an admin's host/;
    assert.throws(
      () => parseCloudConfig(base().replace('xmpp_domain = vms.example.org', 'xmpp_domain = example.org'), 'c.ini'),
      host,
    );
    assert.throws(
      () =>
        parseCloudConfig(
          base()
            .replace('[acl]', '')
            .replace('requesters = GW@Example.org', 'requesters = gw@Example.org gw@VMS.example.org'),
          'c.ini',
        ),
      host,
    );
    assert.throws(
      () =>
        parseCloudConfig(
          base().replace('requesters = GW@Example.org', 'requesters = GW@Example.org\nadmins = root@vms.example.org'),
          'c.ini',
        ),
      host,
    );
    const sameKey = base().replace('password = xmpp-password-1234', 'jwt_key = key.jwk');
    assert.throws(
      () => parseCloudConfig(sameKey, join(tmp.dir, 'c.ini')),
      /c\.ini \[instances\] jwt_key: the same key as \[xmpp\] jwt_key/,
    );
    assert.equal(
      parseCloudConfig(sameKey.replace('jwt_key = key.jwk\n[cloud]', 'jwt_key = own.jwk\n[cloud]'), 'c.ini').instances
        .domain,
      'vms.example.org',
    );
  });
});

describe('instance user-data', () => {
  const keyFile = join(tmp.dir, 'key.jwk');
  writeFileSync(keyFile, JSON.stringify({ kty: 'oct', k: randomBytes(32).toString('base64url') }));
  const caFile = join(tmp.dir, 'ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIBfake\nline2\n-----END CERTIFICATE-----\n');

  it('is the user context plus a [cloudgate] section the instance agent parses', async () => {
    const config = parseCloudConfig(
      base(`ca = ${caFile}\nheartbeat_interval = 15s\n`).replace('jwt_key = key.jwk', `jwt_key = ${keyFile}`),
      join(tmp.dir, 'c.ini'),
    );
    const req = {
      requester: 'gw@example.org',
      allow: ['alice@example.org'],
      context: '#!/bin/sh\necho hi\n[amiconfig]\nplugins = environment\n[environment]\nA = 1\n',
      context_version: 3,
      context_id: 'ctx-9',
    } as RequestRow;
    const inst = { name: 'Web-1', deployment: 'd1', service: 'web' } as InstanceRow;
    const ud = await buildUserData(
      { config, tokens: await tokens(config), pubsub: 'pubsub.example.org', cloud: 'cloud@example.org' },
      req,
      inst,
    );
    const ctx = parseContext(ud);
    const cg = ctx.cloudgate!;
    assert.equal(cg.jid, 'web-1@vms.example.org');
    assert.equal(cg.domain, 'vms.example.org');
    assert.deepEqual(cg.server, { host: 'xmpp.example.org', port: 5222 });
    assert.deepEqual([...cg.allow], ['alice@example.org', 'gw@example.org']);
    assert.deepEqual(
      [cg.contextVersion, cg.contextId, cg.deployment, cg.service, cg.instanceId, cg.gateway],
      [3, 'ctx-9', 'd1', 'web', 'Web-1', 'gw@example.org'],
    );
    assert.equal(cg.cloud, 'cloud@example.org', 'the instance knows whom to ask for its next token');
    assert.deepEqual([cg.heartbeatInterval, cg.metricsInterval, cg.pubsub], [15, 60, 'pubsub.example.org']);
    assert.equal(cg.ca, '-----BEGIN CERTIFICATE-----\nMIIBfake\nline2\n-----END CERTIFICATE-----\n');
    assert.ok(cg.token && cg.tokenExpires! > Date.now() / 1000);
    assert.equal(ctx.preamble.trim(), '#!/bin/sh\necho hi');
    assert.equal(ctx.sections.get('environment')?.get('A'), '1');
  });

  it('refuses a user context with its own [cloudgate] section', () => {
    assert.match(contextProblem('[amiconfig]\n[CloudGate]\njid = x@y\n') ?? '', /\[cloudgate\] section/);
    assert.equal(contextProblem('#!/bin/sh\necho "[cloudgate]" in a string\n[amiconfig]\n'), undefined);
  });
});
