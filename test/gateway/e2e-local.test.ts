/**
 * End to end on the local driver: gateway → real cloud agents → real instance agent
 * processes, through a real ejabberd. Deploy to completion with overflow (and a head
 * replica) into the second cloud, scale up and down, destroy without leftovers; refusals;
 * a gateway restart in the middle of a deployment.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudAgent } from '../../agents/cloud/index.js';
import type { Gateway } from '../../agents/gateway/index.js';
import type { Agent } from '../../core/index.js';
import { gateway as gw, StanzaError } from '../../protocols/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { clusterIni, prepare, startGateway, status, until } from './harness.js';
import { liveProcesses, running } from './e2e-setup.js';
import { runStops, startE2e, type Stops } from '../helpers/e2e-clouds.js';

const SETTINGS = { heartbeatTimeoutMs: 30_000, readyTimeoutMs: 40_000 };

describe('end to end on the local driver', { timeout: 240_000 }, () => {
  let t: TestServer;
  let dir: string;
  let alice: Agent;
  let a: CloudAgent;
  let b: CloudAgent;
  const stops: Stops = [];

  before(async () => {
    let clouds: CloudAgent[];
    ({ t, dir, alice, clouds } = await startE2e('cgt-gw-e2e-local-', stops, ({ host, gateway }) => [
      { name: 'cloud-a', driver: 'local', quota: 2, users: `alice@${host}`, gateway },
      { name: 'cloud-b', driver: 'local', users: `alice@${host}`, gateway },
    ]));
    [a, b] = clouds as [CloudAgent, CloudAgent];
  });
  after(() => runStops(stops));

  const ini = clusterIni({ initial: 2 }).replace(/^image = /gm, 'context = node\nimage = ');
  const gwOpts = (name: string) => ({
    dir,
    dbName: `${name}.db`,
    clouds: [a.config.raw.xmpp.jid, b.config.raw.xmpp.jid],
    settings: SETTINGS,
    policy: { deny: [`mallory@${t.host}`] },
  });

  async function gateway(name: string): Promise<Gateway> {
    const g = await startGateway(t, gwOpts(name));
    stops.push(() => g.stop());
    await until('both clouds online', () => g.agent.peers('cloud').length === 2);
    return g;
  }

  /** Runs `body` with a gateway that is stopped however the body ends: the next test
   * logs in with the same JID, and two sessions of it would keep replacing each other. */
  async function withGateway(name: string, body: (g: Gateway) => Promise<void>): Promise<void> {
    const g = await gateway(name);
    try {
      await body(g);
    } finally {
      await g.stop();
    }
  }

  const completed = (g: Gateway, id: string) =>
    until(
      `deployment ${id} completed`,
      async () => {
        const d = await status(alice, g.agent.jid, id);
        return d.state === 'completed' ? d : undefined;
      },
      45_000,
      200,
    );

  test('deploy with overflow, scale up and down, destroy leaves nothing behind', () =>
    withGateway('main', async (g) => {
      await prepare(alice, g.agent.jid, ini);
      const id = (
        await alice.request(gw.Deploy, g.agent.jid, { cluster: 'batch', counts: { worker: 2 }, passphrase: undefined })
      ).deployment.id;
      let d = await completed(g, id);
      const A = a.config.raw.xmpp.jid;
      const B = b.config.raw.xmpp.jid;
      const on = (c: string) =>
        d.instances
          .filter((i) => i.cloud === c && i.state !== 'terminated')
          .map((i) => i.service)
          .sort();
      assert.deepEqual(on(A), ['head', 'worker'], 'cloud-a is full after a head and a worker (quota 2)');
      assert.deepEqual(on(B), ['head', 'worker'], 'the second worker overflowed with its own head replica');
      assert.ok(d.instances.every((i) => i.ready && i.context_version === 1));
      assert.equal((await running(a)).length + (await running(b)).length, 4);

      await alice.request(gw.Scale, g.agent.jid, { deployment: id, service: 'worker', count: 3 });
      await until(
        '3 workers ready',
        async () => (await status(alice, g.agent.jid, id)).services[1]!.ready === 3,
        45_000,
        200,
      );
      assert.equal((await running(b)).length, 3);

      await alice.request(gw.Scale, g.agent.jid, { deployment: id, service: 'worker', count: 1 });
      await until('cloud-b emptied', async () => (await running(b)).length === 0, 90_000, 200);
      d = await until(
        'scaled in',
        async () => {
          const x = await status(alice, g.agent.jid, id);
          return x.services[1]!.wanted === 1 && x.instances.filter((i) => i.state !== 'terminated').length === 2
            ? x
            : undefined;
        },
        30_000,
        200,
      );
      assert.deepEqual(on(A), ['head', 'worker']);

      await alice.request(gw.Destroy, g.agent.jid, { deployment: id });
      await until(
        'every instance terminated',
        async () => (await status(alice, g.agent.jid, id)).instances.every((i) => i.state === 'terminated'),
        30_000,
        200,
      );
      await until(
        'no process left',
        async () => (await liveProcesses(a)).length + (await liveProcesses(b)).length === 0,
        15_000,
        200,
      );
      assert.equal((await running(a)).length + (await running(b)).length, 0);
      await until('jobs finished', () =>
        g.model.jobs.list(id).every((j) => j.state !== 'queued' && j.state !== 'running'),
      );
      const db = g.model.db;
      assert.equal(db.prepare("SELECT count(*) FROM instances WHERE state <> 'terminated'").pluck().get(), 0);
      assert.equal(db.prepare("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')").pluck().get(), 0);
      assert.equal(
        db.prepare("SELECT count(*) FROM deployments WHERE state IN ('pending', 'running')").pluck().get(),
        0,
      );
    }));

  test('refusals: a user the gateway denies, a user no cloud admits', () =>
    withGateway('refusals', async (g) => {
      const mallory = await makeAgent(t, 'mallory');
      await mallory.start();
      await assert.rejects(
        mallory.request(gw.Deploy, g.agent.jid, { cluster: 'batch', counts: undefined, passphrase: undefined }),
        (e: unknown) => e instanceof StanzaError && e.condition === 'forbidden' && e.app === 'not-in-acl',
      );
      await mallory.stop();

      const bob = await makeAgent(t, 'bob');
      await bob.start();
      await prepare(bob, g.agent.jid, ini);
      const id = (
        await bob.request(gw.Deploy, g.agent.jid, { cluster: 'batch', counts: undefined, passphrase: undefined })
      ).deployment.id;
      const d = await until('failed', async () => {
        const x = await status(bob, g.agent.jid, id);
        return x.state === 'failed' ? x : undefined;
      });
      assert.equal(d.instances.length, 0);
      assert.ok(
        g.model.events.list(id).some((e) => /not in its ACL/.test(e.message)),
        JSON.stringify(g.model.events.list(id).map((e) => e.message)),
      );
      await bob.stop();
    }));

  test('a gateway restarted mid-deployment finishes it with exactly the requested instances', async () => {
    let id = '';
    await withGateway('restart', async (g1) => {
      // The earlier tests' instances are off both clouds' books (a cloud tells it in its
      // presence): with cloud-a still full, everything would rightly go to cloud-b alone.
      await until(
        'both clouds empty',
        () =>
          [a, b].every((c) => {
            const data = g1.agent.peers('cloud').find((p) => p.bare === c.config.raw.xmpp.jid)?.data as
              | { instances?: number }
              | undefined;
            return data?.instances === 0;
          }),
        60_000,
      );
      await prepare(alice, g1.agent.jid, ini);
      id = (
        await alice.request(gw.Deploy, g1.agent.jid, { cluster: 'batch', counts: { worker: 3 }, passphrase: undefined })
      ).deployment.id;
      // Stopped while the head is being created; the workers wait for it to be ready.
      await until('head requested', () => g1.model.instances.list(id).length === 1, 10_000, 5);
    });

    await withGateway('restart', async (g2) => {
      const d = await completed(g2, id);
      const names = d.instances
        .filter((i) => i.state !== 'terminated')
        .map((i) => `${id}-${i.name}`)
        .sort();
      assert.equal(
        names.length,
        5,
        `head, 3 workers, a head replica: ${d.instances.map((i) => `${i.name} ${i.state} on ${i.cloud}`).join(', ')}; ${g2.model.events
          .list(id)
          .map((e) => e.message)
          .join(' | ')}`,
      );
      const atClouds = [...(await running(a)), ...(await running(b))].map((i) => i.name).sort();
      assert.deepEqual(atClouds, names, 'the clouds run exactly the instances the gateway knows');

      await alice.request(gw.Destroy, g2.agent.jid, { deployment: id });
      await until(
        'no process left',
        async () => (await liveProcesses(a)).length + (await liveProcesses(b)).length === 0,
        30_000,
        200,
      );
    });
  });
});
