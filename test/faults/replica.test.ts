/**
 * Found by the freeze fault: when a fixed instance (the head) is lost while the gateway is
 * placing workers, the worker stage asks for a head replica on that cloud (it has workers
 * and, for the moment, no head), and the next step replaces the head itself. The cloud then
 * has two heads, the fixed stage counts both against one wanted and waits, and the surplus
 * replica was only ever removed in the worker stage, which a waiting fixed stage never
 * reaches: the deployment stalled for good. Here that state is made directly (stand-in
 * cloud and instances, real gateway and ejabberd): the replica must go and the job finish.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloud as cloudProto, gateway as gw } from '../../protocols/index.js';
import { startEjabberd } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { StandInCloud } from '../gateway/peers.js';
import { CONTEXT, clusterIni, prepare, startGateway, status, until } from '../gateway/harness.js';

test('a surplus fixed-service replica beside its replaced home instance does not stall the deployment', {
  timeout: 90_000,
}, async () => {
  const t = await startEjabberd();
  const dir = mkdtempSync(join(tmpdir(), 'cgt-replica-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const alice = await makeAgent(t, 'alice');
  await alice.start();
  const cloud = new StandInCloud(t, 'cloud-a', { name: 'cloud-a' });
  await cloud.start(`gateway@${t.host}`);
  // Long enough that no instance is failed for not being ready: the stall must end by itself.
  const g = await startGateway(t, {
    dir,
    clouds: [cloud.jid],
    settings: { terminateTimeoutMs: 1000, readyTimeoutMs: 120_000 },
  });
  try {
    await until('the cloud online', () => g.agent.peers('cloud').length === 1);
    await prepare(alice, g.agent.jid, clusterIni({ initial: 2 }).replace(/^image = /gm, 'context = node\nimage = '));
    const ctx = (await alice.request(gw.ListContexts, g.agent.jid, {})).contexts[0]!.id;
    const id = (
      await alice.request(gw.Deploy, g.agent.jid, { cluster: 'batch', counts: undefined, passphrase: undefined })
    ).deployment.id;
    await until(
      'deployment completed',
      async () => (await status(alice, g.agent.jid, id)).state === 'completed',
      30_000,
      100,
    );

    // What the race leaves: the home head is back, and a replica of it, asked for on the same
    // cloud, runs there and is ready.
    const replica = g.model.instances.add({
      deploymentId: id,
      service: 'head',
      cloud: cloud.jid,
      replica: true,
      requestId: 'r-left-over',
      context: { id: ctx, version: 1 },
    });
    await g.agent.sendReliable(
      cloudProto.Allocate,
      cloud.jid,
      {
        request_id: 'r-left-over',
        deployment: id,
        service: 'head',
        owner: alice.bare,
        flavor: 'small',
        image: 'test-image',
        names: [`${id}-${replica.name}`],
        context: CONTEXT,
        context_version: 1,
        allow: [g.agent.bare, alice.bare],
      },
      'r-left-over',
    );
    await until('the replica ready', () => g.model.instances.require(replica.id).ready, 20_000, 100);
    const job = g.model.jobs.create(id, 'replace', { service: 'head' });

    const done = await until(
      'the replace job to end',
      () => {
        const j = g.model.jobs.get(job.id);
        return j && j.state !== 'queued' && j.state !== 'running' ? j : undefined;
      },
      30_000,
      100,
    );
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.equal(g.model.instances.require(replica.id).state, 'terminated', 'the surplus replica was removed');
    const d = await status(alice, g.agent.jid, id);
    assert.deepEqual(
      d.services.map((s) => `${s.name} ${s.ready}/${s.wanted}`),
      ['head 1/1', 'worker 2/2'],
    );
    assert.deepEqual(
      cloud
        .live()
        .map((i) => i.service)
        .sort(),
      ['head', 'worker', 'worker'],
    );
  } finally {
    await g.stop();
    await cloud.stop();
    await alice.stop();
  }
});
