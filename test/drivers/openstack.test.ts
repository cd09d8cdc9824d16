/**
 * The openstack driver against the run's real test cloud (Keystone, Nova with the fake
 * virt driver, Glance, Placement, Neutron: test/helpers/openstack). Each suite works in a
 * project of its own, so no test depends on another's servers or quotas.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../core/errors.js';
import { freePort } from '../../ejabberd/index.js';
import { CloudError, loadDriver, type CloudDriver, type Instance } from '../../drivers/index.js';
import { capturingLogger, silentLogger } from '../helpers/log.js';
import {
  applicationCredential,
  testCloud,
  testProject,
  type TestCloud,
  type TestProject,
} from '../helpers/openstack/index.js';
import { until } from '../helpers/wait.js';
import { driverContract } from './contract.js';

interface OpenStackExtras {
  exLogins(): number;
  exTokenExpiresAt(): number | undefined;
  exListGlanceImages(): Promise<
    Array<{ name: string | null; checksum?: string | null; os_hash_value?: string | null }>
  >;
}

let cloud: TestCloud;
before(async () => {
  cloud = await testCloud();
});

function options(p: TestProject, extra: Record<string, string> = {}): Record<string, string> {
  return {
    auth_url: cloud.info.endpoints.keystone,
    region: cloud.info.region,
    username: p.userName,
    password: p.password,
    project_name: p.projectName,
    'image.test-image': 'cirros',
    request_timeout_ms: '120000',
    ...extra,
  };
}

async function make(o: Record<string, string>, log = silentLogger()): Promise<CloudDriver & OpenStackExtras> {
  return (await (
    await loadDriver('openstack')
  )(o, { log })) as CloudDriver & OpenStackExtras;
}

/** What Nova stored as the server's user_data, read back as admin (microversion >= 2.3). */
async function storedUserData(id: string): Promise<string> {
  const out = await cloud.admin.call<{ server: Record<string, string> }>('nova', 'GET', `/servers/${id}`, undefined, {
    'openstack-api-version': 'compute 2.3',
  });
  return Buffer.from(out.server['OS-EXT-SRV-ATTR:user_data'] ?? '', 'base64').toString('utf8');
}

const req = (name: string, extra: Partial<{ flavorId: string; imageId: string }> = {}) => ({
  name,
  flavorId: 'small',
  imageId: 'test-image',
  userData: '[amiconfig]\n',
  tags: { deployment: 'd', service: 's', owner: 'o' },
  ...extra,
});

let contractProject: Promise<TestProject> | undefined;
driverContract(
  'openstack (test cloud)',
  async () => {
    contractProject ??= testCloud().then((c) => testProject(c, 'contract'));
    return make(options(await contractProject));
  },
  {
    features: ['userdata', 'tags', 'capacity', 'flavors', 'images', 'runs-agent'],
    unknownId: randomUUID(),
    persistent: true,
    readUserData: (inst: Instance) => storedUserData(inst.id),
    timeoutMs: 150_000,
  },
);

describe('openstack driver (test cloud)', { timeout: 900_000 }, () => {
  let p: TestProject;
  let driver: CloudDriver & OpenStackExtras;

  before(async () => {
    p = await testProject(await testCloud(), 'driver', { instances: 20, cores: -1, ram: -1 });
    driver = await make(options(p));
  });
  after(async () => {
    for (const i of await driver.describe()) await driver.terminate(i.id);
  });

  it('validates options and names the key, never echoing a secret', async () => {
    const secret = `pw${randomBytes(8).toString('hex')}`;
    const base = options(p, { password: secret });
    const { auth_url: _a, ...noUrl } = base;
    await assert.rejects(make(noUrl), (e: Error) => e instanceof ConfigError && /"auth_url"/.test(e.message));
    await assert.rejects(
      make({ ...base, auth_url: `ftp://x:${secret}@h` }),
      (e: Error) => /"auth_url"/.test(e.message) && !e.message.includes(secret),
    );
    await assert.rejects(make({ ...base, compute_microversion: '2.1' }), /"compute_microversion"/);
    await assert.rejects(make({ ...base, 'flavor.big': 'cores:2' }), /"flavor\.big"/);
    await assert.rejects(make({ ...base, interface: 'private' }), /"interface"/);
    await assert.rejects(make({ ...base, application_credential_id: 'x' }), /"application_credential_secret"/);
    const { password: _p, ...noPassword } = base;
    await assert.rejects(make(noPassword), /"password"/);
  });

  it('maps generic flavors by name, by id and by size, discovering the smallest that fits', async () => {
    const d = await make(
      options(p, {
        'flavor.byname': 'm1.small',
        'flavor.byid': '1',
        'flavor.bysize': 'cores:2,memory:3000',
        'flavor.none': 'cores:64,memory:1',
      }),
    );
    const got = (await d.listFlavors()).map((f) => [f.id, f.cores, f.memoryMb, f.extra?.cloudFlavorName]);
    assert.deepEqual(got, [
      ['byname', 1, 2048, 'm1.small'],
      ['byid', 1, 512, 'm1.tiny'],
      ['bysize', 2, 4096, 'm1.medium'],
    ]);
    // Without flavor.* keys: small/medium/large as sizes; the test cloud has nothing for large.
    assert.deepEqual(
      (await driver.listFlavors()).map((f) => [f.id, f.extra?.cloudFlavorName]),
      [
        ['small', 'm1.tiny'],
        ['medium', 'm1.medium'],
      ],
    );
    await assert.rejects(
      d.create(req('os-noflavor', { flavorId: 'none' })),
      (e: Error) => e instanceof CloudError && e.kind === 'invalid' && /unknown flavor "none"/.test(e.message),
    );
  });

  it('lists Glance images with their checksums, and maps generic images by name or id', async () => {
    const glance = await driver.exListGlanceImages();
    const cirros = glance.find((i) => i.name === 'cirros');
    assert.ok(cirros, 'cirros listed');
    assert.match(cirros.checksum ?? '', /^[0-9a-f]{32}$/);
    assert.match(cirros.os_hash_value ?? '', /^[0-9a-f]{128}$/);
    const [image] = await driver.listImages();
    assert.equal(image?.id, 'test-image');
    assert.equal(image?.extra?.checksum, cirros.checksum);
    const byId = await make(options(p, { 'image.test-image': String(image?.extra?.cloudImageId) }));
    assert.equal((await byId.listImages())[0]?.extra?.cloudImageName, 'cirros');
    // No image.* key: every active image under its own name.
    const { 'image.test-image': _i, ...noImages } = options(p);
    assert.ok((await (await make(noImages)).listImages()).some((i) => i.id === 'cirros'));
  });

  it('authenticates with an application credential', async () => {
    const ac = await applicationCredential(cloud, p);
    const { username: _u, password: _p, project_name: _n, ...rest } = options(p);
    const d = await make({ ...rest, application_credential_id: ac.id, application_credential_secret: ac.secret });
    const inst = await d.create(req('os-appcred'));
    assert.equal((await driver.describe([inst.id]))[0]?.name, 'os-appcred', 'same project as the password login');
    await d.terminate(inst.id);
  });

  it('a retried create finds the server instead of making a second, even from another driver object', async () => {
    const [a, b] = await Promise.all([driver.create(req('os-twice')), driver.create(req('os-twice'))]);
    assert.equal(a.id, b.id);
    const other = await make(options(p));
    assert.equal((await other.create(req('os-twice'))).id, a.id);
    const all = await cloud.admin.call<{ servers: Array<{ name: string }> }>(
      'nova',
      'GET',
      `/servers?all_tenants=1&project_id=${p.projectId}&name=os-twice`,
    );
    assert.equal(all.servers.length, 1);
  });

  it("reports a server in ERROR with Nova's fault, as a capacity refusal when no host is valid", async () => {
    // A flavor no compute host can hold: the scheduler finds no valid host.
    const flavorId = `huge-${randomBytes(3).toString('hex')}`;
    await cloud.admin.call('nova', 'POST', '/flavors', {
      flavor: { id: flavorId, name: flavorId, ram: 1024, vcpus: 100_000, disk: 1 },
    });
    try {
      const d = await make(options(p, { 'flavor.huge': flavorId }));
      const inst = await d.create(req('os-novalid', { flavorId: 'huge' }));
      const failed = await until(
        'ERROR',
        async () => {
          const [i] = await d.describe([inst.id]);
          return i?.state === 'error' ? i : undefined;
        },
        60_000,
        250,
      );
      assert.equal(failed.providerState, 'ERROR');
      assert.match(String(failed.extra.fault), /No valid host/);
      assert.equal(failed.extra.faultKind, 'capacity');
      await d.terminate(inst.id);
    } finally {
      await cloud.admin.call('nova', 'DELETE', `/flavors/${flavorId}`);
    }
  });

  it('ignores servers it does not manage and refuses to delete them', async () => {
    const foreign = await make(options(p));
    const inst = await foreign.create(req('os-foreign'));
    // Nova refuses metadata changes while the server builds.
    await until('ACTIVE', async () => (await foreign.describe([inst.id]))[0]?.state === 'running', 120_000, 250);
    // Take the marker away, as if the server had been made by hand.
    await cloud.admin.call('nova', 'DELETE', `/servers/${inst.id}/metadata/cloudgate.managed`);
    assert.ok(!(await driver.describe()).some((i) => i.id === inst.id));
    assert.deepEqual(await driver.describe([inst.id]), []);
    await assert.rejects(driver.terminate(inst.id), (e: Error) => e instanceof CloudError && e.kind === 'invalid');
    await cloud.admin.call('nova', 'DELETE', `/servers/${inst.id}`);
  });

  it('maps refusals: bad request names the field, bad password is auth, no endpoint is unavailable', async () => {
    const badKey = await make(options(p, { key_name: 'no-such-key' }));
    await assert.rejects(
      badKey.create(req('os-badkey')),
      (e: Error) => e instanceof CloudError && e.kind === 'invalid' && /key_name/i.test(e.message),
    );
    const wrong = await make(options(p, { password: 'wrong' }));
    await assert.rejects(wrong.describe(), (e: Error) => e instanceof CloudError && e.kind === 'auth');
    // A free port nobody listens on (fetch refuses well-known ports such as 9 outright).
    const dead = await make(
      options(p, { auth_url: `http://127.0.0.1:${await freePort()}`, request_timeout_ms: '2000' }),
    );
    await assert.rejects(
      dead.describe(),
      (e: Error) => e instanceof CloudError && e.kind === 'unavailable' && /ECONNREFUSED/.test(e.message),
    );
    await assert.rejects(driver.create({ ...req('os-big'), userData: 'x'.repeat(60_000) }), /65535 bytes/);
  });

  it('renews its token before expiry, and once more when a service refuses it (401)', async () => {
    // The test cloud's tokens live tokenLifetimeS seconds; the driver's default margin is
    // longer than that, so it renews at half-life and never sends an expired token.
    const early = capturingLogger();
    const renewing = await make(options(p), early.log);
    await renewing.describe();
    assert.equal(renewing.exLogins(), 1);
    const expires = renewing.exTokenExpiresAt()!;
    await until(
      "past the first token's expiry",
      () => Date.now() > expires + 1000,
      (cloud.info.tokenLifetimeS + 60) * 1000,
      250,
    );
    await renewing.describe();
    assert.equal(renewing.exLogins(), 2, 'renewed before expiry');
    assert.ok(!early.lines.some((l) => l.includes('token refused')), 'never sent an expired token');

    // A token Keystone revokes before it expires (here: the user disabled and enabled
    // again, which revokes every token of theirs) is refused by Nova with 401: one new
    // login, and the call goes through.
    const late = capturingLogger();
    // Margin 0: renewed only at expiry (tokenLifetimeS away), so the refusal is what renews it.
    const lazy = await make(options(p, { token_renew_before_s: '0' }), late.log);
    await lazy.exListGlanceImages(); // logs in; Nova has not seen (nor cached) this token
    for (const enabled of [false, true])
      await cloud.admin.call('keystone', 'PATCH', `/v3/users/${p.userId}`, { user: { enabled } });
    // Keystone compares revocations by the second: a login in the same second would be refused too.
    const revokedAt = Date.now();
    await until('a second after the revocation', () => Date.now() > revokedAt + 1500, 10_000, 100);
    const inst = await lazy.create(req('os-revoked'));
    assert.equal(lazy.exLogins(), 2, 'one new login after the 401');
    assert.ok(
      late.lines.some((l) => l.includes('token refused')),
      'the 401 path was taken',
    );
    await lazy.terminate(inst.id);
  });

  it('never puts the password or a token in a log line or an error', async () => {
    const { log, lines } = capturingLogger();
    const d = await make(options(p), log);
    const inst = await d.create(req('os-leak'));
    await d.describe();
    await d.capacity!();
    await d.terminate(inst.id);
    const wrong = await make(options(p, { password: `${p.password}x` }), log);
    const err = await wrong.describe().catch((e: Error) => e);
    const token = await fetch(`${cloud.info.endpoints.keystone}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { id: p.userId, password: p.password } } },
          scope: { project: { id: p.projectId } },
        },
      }),
    }).then((r) => r.headers.get('x-subject-token'));
    assert.ok(lines.length > 0 && token);
    for (const h of [...lines, String(err), (err as Error).stack ?? '', JSON.stringify(err)]) {
      assert.ok(!h.includes(p.password), `password in: ${h.slice(0, 200)}`);
      assert.ok(!h.includes(token.slice(0, 40)), `token in: ${h.slice(0, 200)}`);
    }
  });
});

describe('openstack capacity and quota (test cloud)', { timeout: 600_000 }, () => {
  it('reports free instances, cores and RAM from the limits, and a refusal past them as quota', async () => {
    const p = await testProject(await testCloud(), 'quota', { instances: 2, cores: 10, ram: 4096 });
    const d = await make(options(p));
    assert.deepEqual(await d.capacity!(), { instances: 2, cores: 10, memoryMb: 4096 });
    const a = await d.create(req('os-q1'));
    const b = await d.create(req('os-q2'));
    // Nova counts a server in its limits once it has left the build queue.
    const full = { instances: 0, cores: 8, memoryMb: 4096 - 2 * 512 };
    await until(
      'both servers counted',
      async () => JSON.stringify(await d.capacity!()) === JSON.stringify(full),
      120_000,
      250,
    );
    await assert.rejects(
      d.create(req('os-q3')),
      (e: Error) => e instanceof CloudError && e.kind === 'quota' && /Quota exceeded/i.test(e.message),
    );
    await d.terminate(a.id);
    await d.terminate(b.id);
    await until('capacity back', async () => (await d.capacity!()).instances === 2, 60_000, 250);
  });
});
