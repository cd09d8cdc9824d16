/**
 * End to end with OpenStack: a cloud agent on the openstack driver, against the run's
 * real test cloud (test/helpers/openstack), in a project whose Nova quota allows two
 * servers, overflowing into a cloud on the local driver. Its servers' guests are
 * SIMULATED (the fake virt driver runs none): real instance agents started with the
 * user-data read back from Nova (test/helpers/openstack/guests.ts). The agent's driver
 * keeps each Keystone token to its end (token_renew_before_s = 0) and the guests boot
 * only once the first token has expired, so the deployment is still going when Keystone
 * starts refusing that token.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCloudAgent, loadCloudConfig, type CloudAgent } from '../../agents/cloud/index.js';
import type { Agent } from '../../core/index.js';
import { gateway as gw } from '../../protocols/index.js';
import { makeAgent, silent } from '../helpers/agents.js';
import type { TestServer } from '../helpers/ejabberd.js';
import {
  simulateGuests,
  type SimulatedGuests,
  testCloud,
  type TestCloud,
  testProject,
} from '../helpers/openstack/index.js';
import { instancesSection } from '../cloud/helpers.js';
import { startGateway, status, until } from './harness.js';
import { deployBatch, running, scaleWorkersTo2, startCloud, startServer } from './e2e-setup.js';

interface TokenView {
  exTokenExpiresAt(): number | undefined;
  exLogins(): number;
}

describe('end to end with OpenStack', { timeout: 900_000 }, () => {
  let t: TestServer;
  let dir: string;
  let cloud: TestCloud;
  let projectId: string;
  let alice: Agent;
  let os: CloudAgent;
  let local: CloudAgent;
  let guests: SimulatedGuests;
  const stops: Array<() => Promise<void>> = [];

  before(async () => {
    cloud = await testCloud();
    const p = await testProject(cloud, 'e2e', { instances: 2, cores: 20, ram: 20_480 });
    projectId = p.projectId;
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-gw-e2e-os-'));
    const gateway = `gateway@${t.host}`;
    const d = join(dir, 'cloud-os');
    mkdirSync(d, { recursive: true });
    const file = join(d, 'cloud.ini');
    writeFileSync(
      file,
      `
[xmpp]
jid = cloud-os@${t.host}
server = ${t.server.info.ip}:${t.server.info.c2sPort}
jwt_key = ${t.server.info.jwtKeyFile}
ca = ${t.server.info.certFile}
resource = agent

[cloud]
name = cloud-os
driver = openstack
poll_interval = 500ms
db = ${join(d, 'cloud.sqlite')}
requesters = ${gateway}

[driver]
auth_url = ${cloud.info.endpoints.keystone}
region = ${cloud.info.region}
username = ${p.userName}
password = ${p.password}
project_name = ${p.projectName}
image.test-image = cirros
flavor.small = m1.tiny
token_renew_before_s = 0
request_timeout_ms = 120000

[flavor.small]
id = small
[image.test-image]
id = test-image

[acl]
users = *

[quota]
instances = 10

${instancesSection(t, '1s')}
`,
      { mode: 0o600 },
    );
    os = await createCloudAgent(loadCloudConfig(file), { log: silent });
    await os.start();
    local = await startCloud(t, dir, { name: 'cloud-local', driver: 'local', gateway });
    stops.push(
      () => os.stop(),
      () => local.stop(),
    );
    alice = await makeAgent(t, 'alice');
    await alice.start();
    stops.push(() => alice.stop());
  });
  after(async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    await guests?.stop();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('deploy onto OpenStack through a token expiry, overflow past its quota, destroy: nothing left in Nova', async () => {
    const driver = os.driver as unknown as TokenView;
    // The agent logged in at start (capacity, flavors): guests boot once that token expired.
    const firstExpiry = await until('the agent logged in to Keystone', () => driver.exTokenExpiresAt(), 60_000);
    guests = simulateGuests(cloud, projectId, join(dir, 'guests'), { bootWhen: () => Date.now() > firstExpiry + 1000 });
    const g = await startGateway(t, {
      dir,
      clouds: [os.config.raw.xmpp.jid, local.config.raw.xmpp.jid],
      settings: { heartbeatTimeoutMs: 120_000, readyTimeoutMs: 240_000 },
    });
    stops.push(() => g.stop());
    await until('both clouds online', () => g.agent.peers('cloud').length === 2, 60_000);
    const deployed = await deployBatch(alice, g.agent.jid, { timeoutMs: 300_000, pollMs: 500 });
    const id = deployed.id;
    let d = deployed.d;
    assert.deepEqual(d.instances.map((i) => [i.service, i.cloud, i.ready]).sort(), [
      ['head', os.config.raw.xmpp.jid, true],
      ['worker', os.config.raw.xmpp.jid, true],
    ]);
    assert.ok(Date.now() > firstExpiry, 'the first token expired during the deployment');
    assert.ok(driver.exLogins() >= 2, 'the driver logged in again');
    const { servers } = await cloud.admin.call<{ servers: Array<{ status: string }> }>(
      'nova',
      'GET',
      `/servers/detail?all_tenants=1&project_id=${projectId}`,
    );
    assert.deepEqual(
      servers.map((s) => s.status),
      ['ACTIVE', 'ACTIVE'],
    );

    // Nova's quota (2 servers) is full: the third instance overflows, with a head replica.
    d = await scaleWorkersTo2(alice, g.agent.jid, id, { timeoutMs: 180_000, pollMs: 500 });
    assert.deepEqual(
      d.instances
        .filter((i) => i.cloud === local.config.raw.xmpp.jid)
        .map((i) => i.service)
        .sort(),
      ['head', 'worker'],
      'overflow with a head replica',
    );

    await alice.request(gw.Destroy, g.agent.jid, { deployment: id });
    await until(
      'every instance terminated',
      async () => (await status(alice, g.agent.jid, id)).instances.every((i) => i.state === 'terminated'),
      120_000,
      500,
    );
    await until(
      'nothing left in Nova',
      async () =>
        (
          await cloud.admin.call<{ servers: unknown[] }>(
            'nova',
            'GET',
            `/servers?all_tenants=1&project_id=${projectId}`,
          )
        ).servers.length === 0,
      120_000,
      500,
    );
    await until('no simulated guest left', () => guests.running().length === 0, 30_000);
    assert.equal((await running(local)).length, 0);
  });
});
