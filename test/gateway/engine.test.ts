/**
 * The gateway's engine against a real ejabberd, with stand-in cloud and instance agents
 * (test/gateway/peers.ts) that speak the protocols: deploy, overflow with fixed-service
 * replicas, scale up and down, destroy, refusals, events on PubSub.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../../core/index.js';
import { gateway as gw, StanzaError } from '../../protocols/index.js';
import type { Gateway } from '../../agents/gateway/index.js';
import { makeAgent } from '../helpers/agents.js';
import { StandInCloud } from './peers.js';
import { clusterIni, engineSuite, prepare, startGateway, status, until } from './harness.js';

// Bounded: every wait inside has its own limit; this one catches a hang anywhere else.
describe('gateway engine with stand-in clouds', { timeout: 240_000 }, () => {
  const s = engineSuite('cgt-gw-engine-');
  const { running } = s;
  let n = 0;

  /** Two stand-in clouds (a preferred) and a gateway of its own for each test. */
  async function setup(
    a: ConstructorParameters<typeof StandInCloud>[2],
    b: ConstructorParameters<typeof StandInCloud>[2],
    settings = {},
    policy = {},
  ) {
    n++;
    const gwUser = `gateway${n}`;
    const gwBare = `${gwUser}@${s.t.host}`;
    const ca = new StandInCloud(s.t, `cloud-a${n}`, a);
    const cb = new StandInCloud(s.t, `cloud-b${n}`, b);
    await ca.start(gwBare);
    await cb.start(gwBare);
    running.push(ca, cb);
    const g = await startGateway(s.t, {
      dir: s.dir,
      user: gwUser,
      dbName: `gw${n}.db`,
      clouds: [ca.jid, cb.jid],
      settings,
      policy,
    });
    running.push(g);
    await until('both clouds online', () => g.agent.peers('cloud').length === 2);
    // Requests go to the gateway's session (an IQ to a bare JID is answered by the server).
    return { ca, cb, g, gwJid: g.agent.jid, gwBare };
  }

  async function deploy(_g: Gateway, gwJid: string, ini: string, counts?: Record<string, number>) {
    await prepare(s.alice, gwJid, ini.replace(/^image = /gm, 'context = node\nimage = '));
    const r = await s.alice.request(gw.Deploy, gwJid, { cluster: 'batch', counts, passphrase: undefined });
    assert.equal(r.deployment.owner, s.alice.bare);
    return r.deployment.id;
  }

  const completed = (user: Agent, gwJid: string, id: string) =>
    until(`deployment ${id} completed`, async () => {
      const d = await status(user, gwJid, id);
      return d.state === 'completed' ? d : undefined;
    });

  test('deploy: fixed service first, then workers; completed when every agent is ready; events on PubSub', async () => {
    const { ca, cb, g, gwJid, gwBare } = await setup({ name: 'cloud-a' }, { name: 'cloud-b' });
    const live: string[] = [];
    s.alice.onEvent(gw.DeploymentEvent, (e) => {
      live.push(`${e.deployment} ${e.state}`);
    });
    const id = await deploy(g, gwJid, clusterIni({ initial: 2 }));
    // The node exists when Deploy answers: the owner follows it live from then on.
    await s.alice.pubsub.subscribe(`deployments/${id}`);
    const d = await completed(s.alice, gwJid, id);
    await until('the completion event, live', () => live.includes(`${id} completed`));
    assert.deepEqual(d.instances.map((i) => [i.name, i.service, i.cloud, i.ready, i.context_version]).sort(), [
      ['head-1', 'head', ca.jid, true, 1],
      ['worker-1', 'worker', ca.jid, true, 1],
      ['worker-2', 'worker', ca.jid, true, 1],
    ]);
    assert.deepEqual(d.services, [
      { name: 'head', type: 'fixed', wanted: 1, ready: 1 },
      { name: 'worker', type: 'scalable', wanted: 2, ready: 2 },
    ]);
    // The head was asked for alone, before any worker.
    assert.deepEqual(
      ca.allocations.map((a) => [a.service, a.names.length]),
      [
        ['head', 1],
        ['worker', 2],
      ],
    );
    assert.equal(cb.allocations.length, 0);
    assert.match(ca.allocations[0]!.context, /ROLE = test/);
    assert.deepEqual(ca.allocations[0]!.allow.sort(), [s.alice.bare, gwBare].sort());
    assert.equal(ca.allocations[0]!.names[0], `${id}-head-1`);

    // The owner reads the deployment's history from its node; another user may not.
    await g.settle();
    const items = await until('events published', async () => {
      const its = await s.alice.pubsub.items(d.node);
      const evs = its.map((i) => gw.DeploymentEvent.payload.decode(i.payload));
      return evs.some((e) => e.state === 'completed') ? evs : undefined;
    });
    assert.ok(items.some((e) => e.type === 'created'));
    assert.ok(
      items.every((e, k) => k === 0 || e.seq > items[k - 1]!.seq),
      'in order',
    );
    const bob = await makeAgent(s.t, 'bob');
    await bob.start();
    await assert.rejects(bob.pubsub.subscribe(d.node), (e: unknown) => e instanceof StanzaError);
    await assert.rejects(
      bob.request(gw.Status, gwJid, { deployment: id }),
      (e: unknown) => e instanceof StanzaError && e.condition === 'item-not-found',
    );
    await bob.stop();
  });

  test('overflow: a full cloud sends the rest to the next one, which gets its own head replica', async () => {
    const { ca, cb, gwJid, g } = await setup({ name: 'cloud-a', quota: 2 }, { name: 'cloud-b' });
    const id = await deploy(g, gwJid, clusterIni({ initial: 3 }));
    const d = await completed(s.alice, gwJid, id);
    const on = (c: string) =>
      d.instances
        .filter((i) => i.cloud === c)
        .map((i) => i.service)
        .sort();
    assert.deepEqual(on(ca.jid), ['head', 'worker']);
    assert.deepEqual(on(cb.jid), ['head', 'worker', 'worker']);
    assert.deepEqual(d.services, [
      { name: 'head', type: 'fixed', wanted: 2, ready: 2 },
      { name: 'worker', type: 'scalable', wanted: 3, ready: 3 },
    ]);
    assert.deepEqual(
      cb.allocations.map((a) => a.service),
      ['head', 'worker'],
      'the replica is asked for before the workers',
    );
    assert.equal(ca.live().length + cb.live().length, 5);
  });

  test('scale up into the overflow cloud, then down: overflow workers and their replica go first', async () => {
    const { ca, cb, gwJid, g } = await setup({ name: 'cloud-a', quota: 2 }, { name: 'cloud-b' });
    const id = await deploy(g, gwJid, clusterIni({ initial: 1 }));
    await completed(s.alice, gwJid, id);
    await s.alice.request(gw.Scale, gwJid, { deployment: id, service: 'worker', count: 3 });
    await until('3 workers ready', async () => (await status(s.alice, gwJid, id)).services[1]!.ready === 3);
    await until('the scale-up job done', () => g.model.jobs.list(id).every((j) => j.state === 'succeeded'));
    assert.equal(cb.live().length, 3, 'two workers and a head replica on cloud-b');

    const before = ca
      .live()
      .map((i) => i.name)
      .sort();
    await s.alice.request(gw.Scale, gwJid, { deployment: id, service: 'worker', count: 1 });
    await until('cloud-b emptied', () => cb.live().length === 0);
    assert.deepEqual(
      ca
        .live()
        .map((i) => i.name)
        .sort(),
      before,
      'cloud-a keeps its head and worker',
    );
    assert.ok(
      [...cb.instances.values()].filter((i) => i.service === 'worker').every((i) => (i.agent?.drained ?? 0) >= 1),
      'workers were drained first',
    );
    await until('scale job done', () => g.model.jobs.list(id).every((j) => j.state === 'succeeded')).catch((err) => {
      throw new Error(
        `${(err as Error).message}; jobs ${JSON.stringify(g.model.jobs.list(id).map((j) => [j.kind, j.state]))}`,
      );
    });
    const d = await status(s.alice, gwJid, id);
    assert.deepEqual(d.services, [
      { name: 'head', type: 'fixed', wanted: 1, ready: 1 },
      { name: 'worker', type: 'scalable', wanted: 1, ready: 1 },
    ]);
    await assert.rejects(
      s.alice.request(gw.Scale, gwJid, { deployment: id, service: 'worker', count: 9 }),
      (e: unknown) => e instanceof StanzaError && e.condition === 'bad-request',
    );
    await assert.rejects(
      s.alice.request(gw.Scale, gwJid, { deployment: id, service: 'head', count: 2 }),
      (e: unknown) => e instanceof StanzaError && e.condition === 'bad-request',
    );
  });

  test('destroy leaves nothing running and no row in a non-terminal state', async () => {
    const { ca, cb, gwJid, g } = await setup({ name: 'cloud-a', quota: 2 }, { name: 'cloud-b' });
    const id = await deploy(g, gwJid, clusterIni({ initial: 2 }));
    await completed(s.alice, gwJid, id);
    assert.equal((await status(s.alice, gwJid, id)).destroyed, undefined);
    const asked = (await s.alice.request(gw.Destroy, gwJid, { deployment: id })).deployment;
    assert.equal(asked.destroyed, 'destroying', 'the answer says a destroy is under way');
    const gone = await until('everything terminated', async () => {
      const x = await status(s.alice, gwJid, id);
      return x.instances.every((i) => i.state === 'terminated') ? x : undefined;
    });
    assert.equal(gone.destroyed, 'destroyed', 'the status says the deployment is destroyed, not only completed');
    await until('destroy job done', () =>
      g.model.jobs.list(id).every((j) => j.state !== 'queued' && j.state !== 'running'),
    );
    assert.equal(ca.live().length + cb.live().length, 0);
    const db = g.model.db;
    assert.equal(db.prepare("SELECT count(*) FROM instances WHERE state <> 'terminated'").pluck().get(), 0);
    assert.equal(db.prepare("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')").pluck().get(), 0);
    assert.equal(db.prepare("SELECT count(*) FROM deployments WHERE state IN ('pending', 'running')").pluck().get(), 0);
    assert.ok(g.model.events.list(id).some((e) => e.type === 'destroyed'));
    await assert.rejects(
      s.alice.request(gw.Scale, gwJid, { deployment: id, service: 'worker', count: 2 }),
      (e: unknown) => e instanceof StanzaError && e.condition === 'conflict',
    );
  });

  test('a user without rights is refused by the gateway; one a cloud refuses gets a failed deployment', async () => {
    const { gwJid, g } = await setup(
      { name: 'cloud-a', acl: [`carol@${s.t.host}`] },
      { name: 'cloud-b', acl: [`carol@${s.t.host}`] },
      {},
      { deny: [`mallory@${s.t.host}`] },
    );
    const mallory = await makeAgent(s.t, 'mallory');
    await mallory.start();
    await assert.rejects(
      mallory.request(gw.Deploy, gwJid, { cluster: 'batch', counts: undefined, passphrase: undefined }),
      (e: unknown) => e instanceof StanzaError && e.condition === 'forbidden' && e.app === 'not-in-acl',
    );
    await assert.rejects(
      mallory.request(gw.PutCluster, gwJid, { definition: clusterIni() }),
      (e: unknown) => e instanceof StanzaError && e.condition === 'forbidden',
    );
    assert.deepEqual(await mallory.request(gw.WhoAmI, gwJid, {}), { jid: mallory.bare, admin: false, groups: [] });
    await mallory.stop();

    // alice may use the gateway, but neither cloud's ACL admits her.
    const id = await deploy(g, gwJid, clusterIni());
    const d = await until('deployment failed', async () => {
      const x = await status(s.alice, gwJid, id);
      return x.state === 'failed' ? x : undefined;
    });
    assert.equal(d.instances.length, 0);
    assert.ok(
      g.model.events.list(id).some((e) => /not in the ACL/.test(e.message)),
      'the reason names the ACL',
    );
  });

  test('a cloud that fails an instance mid-deployment: the rest overflows to the next cloud', async () => {
    const { ca, cb, gwJid, g } = await setup({ name: 'cloud-a', failNth: 2 }, { name: 'cloud-b' });
    const id = await deploy(g, gwJid, clusterIni({ initial: 1 }));
    const d = await completed(s.alice, gwJid, id);
    assert.deepEqual(
      d.instances
        .filter((i) => i.cloud === cb.jid)
        .map((i) => i.service)
        .sort(),
      ['head', 'worker'],
    );
    assert.deepEqual(
      d.instances.filter((i) => i.cloud === ca.jid).map((i) => i.service),
      ['head'],
    );
    assert.equal(
      [...ca.instances.values()].find((i) => i.service === 'worker')!.state,
      'terminated',
      'the failed one was terminated',
    );
  });

  test('the only cloud fails an instance: it is retried there, and the deployment completes', async () => {
    const { ca, gwJid, g } = await setup(
      { name: 'cloud-a', failNth: 2 },
      { name: 'cloud-b', acl: [`carol@${s.t.host}`] },
    );
    const id = await deploy(g, gwJid, clusterIni({ initial: 1 }));
    const d = await completed(s.alice, gwJid, id);
    assert.deepEqual(
      d.instances.map((i) => [i.name, i.cloud]),
      [
        ['head-1', ca.jid],
        ['worker-2', ca.jid],
      ],
    );
    assert.ok(
      g.model.events.list(id).some((e) => e.message === 'worker-1 failed: error at the cloud: simulated failure'),
      'the failure is in the history',
    );
  });

  test('the only cloud fails the same service three times: the deployment fails and says why', async () => {
    const { gwJid, g } = await setup(
      { name: 'cloud-a', failNth: [2, 3, 4] },
      { name: 'cloud-b', acl: [`carol@${s.t.host}`] },
    );
    const id = await deploy(g, gwJid, clusterIni({ initial: 1 }));
    const d = await until('failed', async () => {
      const x = await status(s.alice, gwJid, id);
      return x.state === 'failed' ? x : undefined;
    });
    assert.equal(d.instances.filter((i) => i.service === 'worker').length, 3, 'three tries');
    const why = g.model.events.list(id).find((e) => e.type === 'state' && /failed/.test(e.message))?.message ?? '';
    assert.match(why, /cloud-a: failed here: error at the cloud/);
  });

  test('contexts: versions, clones, encryption; an encrypted context deploys only with its passphrase', async () => {
    const { ca, gwJid, g } = await setup({ name: 'cloud-a' }, { name: 'cloud-b' });
    const put = (body: string, passphrase?: string, visibility?: 'public' | 'private') =>
      s.alice.request(gw.PutContext, gwJid, { name: 'node', body, visibility, passphrase });
    const v1 = (await put('[amiconfig]\nplugins = environment\n[environment]\nV = 1\n')).context;
    const v2 = (await put('[amiconfig]\nplugins = environment\n[environment]\nV = 2\n', 'sesame', 'public')).context;
    assert.deepEqual(
      [v1.version, v2.version, v2.id === v1.id, v2.encrypted, v2.visibility],
      [1, 2, true, true, 'public'],
    );
    await assert.rejects(
      put('not a context'),
      (e: unknown) => e instanceof StanzaError && e.condition === 'bad-request',
    );
    await assert.rejects(
      put('[cloudgate]\njid = x@y\n'),
      (e: unknown) => e instanceof StanzaError && /cloudgate/.test(e.message),
    );
    const get = (version?: number, passphrase?: string) =>
      s.alice.request(gw.GetContext, gwJid, { ref: 'node', version, passphrase });
    assert.match((await get(1)).body, /V = 1/);
    await assert.rejects(get(2), (e: unknown) => e instanceof StanzaError && e.app === 'passphrase');
    await assert.rejects(
      get(2, 'wrong'),
      (e: unknown) => e instanceof StanzaError && e.condition === 'not-authorized' && e.app === 'passphrase',
    );
    assert.match((await get(2, 'sesame')).body, /V = 2/);
    const bob = await makeAgent(s.t, 'bob');
    await bob.start();
    const clone = (await bob.request(gw.CloneContext, gwJid, { ref: v1.id, name: 'mine' })).context;
    assert.deepEqual([clone.owner, clone.name, clone.version, clone.parent], [bob.bare, 'mine', 1, v1.id]);
    assert.deepEqual((await bob.request(gw.ListContexts, gwJid, {})).contexts.map((c) => c.name).sort(), [
      'mine',
      'node',
    ]);
    await bob.stop();

    await s.alice.request(gw.PutCluster, gwJid, {
      definition: clusterIni({ initial: 1 }).replace(/^image = /gm, 'context = node\nimage = '),
    });
    const deploy = (passphrase?: string) =>
      s.alice.request(gw.Deploy, gwJid, { cluster: 'batch', counts: undefined, passphrase });
    await assert.rejects(deploy(), (e: unknown) => e instanceof StanzaError && e.app === 'passphrase');
    await assert.rejects(deploy('wrong'), (e: unknown) => e instanceof StanzaError && e.app === 'passphrase');
    await assert.rejects(
      s.alice.request(gw.Deploy, gwJid, { cluster: 'batch', counts: { worker: 99 }, passphrase: 'sesame' }),
      (e: unknown) => e instanceof StanzaError && e.condition === 'bad-request',
    );
    const id = (await deploy('sesame')).deployment.id;
    const d = await completed(s.alice, gwJid, id);
    assert.ok(d.instances.every((i) => i.context_version === 2));
    assert.match(ca.allocations[0]!.context, /V = 2/, 'the cloud gets the decrypted text');
    assert.ok(
      !JSON.stringify(g.model.db.prepare('SELECT * FROM deployments').all()).includes('sesame'),
      'the passphrase is not stored',
    );
  });

  test('ready means ready with the context version that was sent; never ready in time means failed', async () => {
    const { gwJid, g, ca, cb } = await setup(
      { name: 'cloud-a', wrongVersion: true },
      { name: 'cloud-b', wrongVersion: true },
      { readyTimeoutMs: 1500 },
    );
    const id = await deploy(g, gwJid, clusterIni({ initial: 1 }));
    await until('head agent online', () => g.model.instances.list(id).some((i) => i.state === 'running'));
    const d = await status(s.alice, gwJid, id);
    assert.equal(d.state, 'running');
    assert.ok(d.instances.every((i) => !i.ready));
    // Failed on cloud-a, tried on cloud-b, failed there too: nowhere left to try.
    await until('deployment failed', async () => (await status(s.alice, gwJid, id)).state === 'failed');
    const f = await until('both terminated', async () => {
      const x = await status(s.alice, gwJid, id);
      return x.instances.every((i) => i.state === 'terminated') ? x : undefined;
    });
    assert.deepEqual(
      f.instances.map((i) => [i.name, i.cloud, i.state]),
      [
        ['head-1', ca.jid, 'terminated'],
        ['head-2', cb.jid, 'terminated'],
      ],
    );
    assert.ok(g.model.events.list(id).some((e) => /not ready within 2 s/.test(e.message)));
    await until('nothing left at the clouds', () => ca.live().length + cb.live().length === 0);
  });
});
