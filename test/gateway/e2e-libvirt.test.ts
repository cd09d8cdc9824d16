/**
 * End to end with libvirt: a cloud agent on libvirt's test:///default hypervisor (each
 * domain's guest simulated by a local instance agent process, simulate_guest = true)
 * overflowing into a cloud on the local driver. Deploy to completion, scale, destroy
 * without leaving a domain or a process.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudAgent } from '../../agents/cloud/index.js';
import type { Agent } from '../../core/index.js';
import { gateway as gw } from '../../protocols/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { startGateway, status, until } from './harness.js';
import { deployBatch, liveProcesses, running, scaleWorkersTo2 } from './e2e-setup.js';
import { runStops, startE2e, type Stops } from '../helpers/e2e-clouds.js';

describe('end to end with the libvirt test driver', { timeout: 150_000 }, () => {
  let t: TestServer;
  let dir: string;
  let alice: Agent;
  let virt: CloudAgent;
  let local: CloudAgent;
  const stops: Stops = [];

  before(async () => {
    let clouds: CloudAgent[];
    ({ t, dir, alice, clouds } = await startE2e('cgt-gw-e2e-virt-', stops, ({ gateway }) => [
      { name: 'cloud-virt', driver: 'libvirt', quota: 2, gateway },
      { name: 'cloud-local', driver: 'local', gateway },
    ]));
    [virt, local] = clouds as [CloudAgent, CloudAgent];
  });
  after(() => runStops(stops));

  test('deploy onto libvirt, overflow to the local cloud, scale, destroy: no domain, no process left', async () => {
    const g = await startGateway(t, {
      dir,
      clouds: [virt.config.raw.xmpp.jid, local.config.raw.xmpp.jid],
      settings: { heartbeatTimeoutMs: 30_000, readyTimeoutMs: 40_000 },
    });
    stops.push(() => g.stop());
    await until('both clouds online', () => g.agent.peers('cloud').length === 2);
    const deployed = await deployBatch(alice, g.agent.jid, { timeoutMs: 45_000, pollMs: 200 });
    const id = deployed.id;
    let d = deployed.d;
    assert.deepEqual(d.instances.map((i) => [i.service, i.cloud, i.ready]).sort(), [
      ['head', virt.config.raw.xmpp.jid, true],
      ['worker', virt.config.raw.xmpp.jid, true],
    ]);
    assert.equal((await running(virt)).length, 2, 'two libvirt domains');

    d = await scaleWorkersTo2(alice, g.agent.jid, id, { timeoutMs: 45_000, pollMs: 200 });
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
      30_000,
      200,
    );
    await until(
      'no domain, no process',
      async () =>
        (await running(virt)).length +
          (await running(local)).length +
          (await liveProcesses(virt)).length +
          (await liveProcesses(local)).length ===
        0,
      15_000,
      200,
    );
    assert.equal(g.model.db.prepare("SELECT count(*) FROM instances WHERE state <> 'terminated'").pluck().get(), 0);
  });
});
