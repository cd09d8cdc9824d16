/**
 * What the deploy benchmark writes is what the agents accept (their own parsers), and its
 * baseline drives a real driver (libvirt's test hypervisor) and leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCloudConfig } from '../../agents/cloud/index.js';
import { loadGatewayConfig } from '../../agents/gateway/index.js';
import { parseCluster } from '../../agents/gateway/model/index.js';
import { openDriver } from '../../drivers/index.js';
import type { ServerInfo } from '../../ejabberd/index.js';
import { clusterIni, driverBaseline, driverOptions, writeDeployFiles, CLOUD } from '../../bench/lib/index.js';
import { silent } from '../helpers/agents.js';
import { assertNoOperatorKey, readIni } from '../helpers/credentials.js';

function fakeServer(dir: string): ServerInfo {
  const conf = join(dir, 'conf');
  mkdirSync(conf, { recursive: true });
  for (const f of ['jwt.jwk', 'jwt-vms.localhost.jwk'])
    writeFileSync(join(conf, f), JSON.stringify({ kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI' }));
  writeFileSync(join(conf, 'server.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(join(conf, 'server.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  return {
    dir,
    host: 'localhost',
    hosts: ['localhost', 'vms.localhost'],
    ip: '127.0.0.1',
    c2sPort: 15222,
    componentPort: 15347,
    distPort: 15400,
    node: 'x@localhost',
    jwtKeyFile: join(conf, 'jwt.jwk'),
    hostJwtKeyFiles: { 'vms.localhost': join(conf, 'jwt-vms.localhost.jwk') },
    components: [],
    certFile: join(conf, 'server.pem'),
  };
}

for (const driver of ['libvirt', 'local'] as const) {
  test(`the ${driver} gateway, cloud and cluster files parse, sized for the count`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cgt-bench-files-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const info = fakeServer(dir);
    const files = writeDeployFiles({
      dir,
      info,
      instanceHost: 'vms.localhost',
      user: 'bench@localhost',
      driver,
      count: 100,
      pollS: 5,
      passwords: { gateway: 'gw-pw', cloud: 'cloud-pw' },
    });
    // Each agent logs in with its own password; the operator's key is in neither file.
    assertNoOperatorKey(info, [files.gateway, files.cloud]);
    assert.equal(readIni(files.gateway).xmpp!.password, 'gw-pw');
    assert.equal(readIni(files.cloud).xmpp!.password, 'cloud-pw');
    const cloud = loadCloudConfig(files.cloud);
    assert.equal(cloud.driver, driver);
    assert.equal(cloud.pollMs, 5000);
    assert.equal(cloud.quota.total.instances, 110);
    assert.deepEqual([...cloud.requesters], ['gateway@localhost']);
    assert.equal(cloud.instances.domain, 'vms.localhost');
    assert.equal(cloud.flavors.get('small')?.id, 'tiny');
    const gw = loadGatewayConfig(files.gateway);
    assert.deepEqual(gw.gateway.clouds, [`${CLOUD}@localhost`]);
    assert.deepEqual(gw.gateway.admins, ['bench@localhost']);
    const def = parseCluster(clusterIni(100));
    assert.equal(def.services.length, 1);
    assert.deepEqual(
      def.services.map((s) => s.type === 'scalable' && [s.name, s.initial, s.max]),
      [['worker', 100, 100]],
    );
  });
}

test('the openstack cloud file carries the project access and maps the bench flavor and image to the test cloud', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-bench-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const access = { auth_url: 'http://127.0.0.1:5000', username: 'u', password: 'p-secret', project_name: 'bench-1' };
  const files = writeDeployFiles({
    dir,
    info: fakeServer(dir),
    instanceHost: 'vms.localhost',
    user: 'bench@localhost',
    driver: 'openstack',
    count: 50,
    pollS: 5,
    passwords: { gateway: 'gw-pw', cloud: 'cloud-pw' },
    access,
  });
  const cloud = loadCloudConfig(files.cloud);
  assert.equal(cloud.driver, 'openstack');
  assert.deepEqual(
    { ...readIni(files.cloud).driver },
    { ...access, 'flavor.tiny': 'm1.tiny', 'image.cernvm-4': 'cirros', request_timeout_ms: '120000' },
  );
});

test("the libvirt node is big enough for the count: the cloud agent's capacity check admits them all", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-bench-node-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const d = await openDriver('libvirt', driverOptions('libvirt', dir, 300), { log: silent });
  try {
    const cap = await d.capacity!();
    assert.ok(cap.cores! >= 300 && cap.memoryMb! >= 300 * 64, JSON.stringify(cap));
  } finally {
    await d.close();
  }
});

test('the baseline creates and removes instances through the driver itself', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-bench-base-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const b = await driverBaseline('libvirt', dir, 5, silent, new AbortController().signal);
  assert.ok(b.sequential_s > 0 && b.parallel_s! > 0, JSON.stringify(b));
  // Every config drive went with its domain.
  const drives = join(dir, 'drives');
  assert.deepEqual(existsSync(drives) ? readdirSync(drives) : [], []);
  const ac = new AbortController();
  ac.abort(new Error('deadline'));
  await assert.rejects(driverBaseline('libvirt', join(dir, 'aborted'), 5, silent, ac.signal), /deadline/);
});
