/**
 * The gateway's service layer, the one place use cases are authorized, against a real
 * ejabberd and a stand-in cloud: typed CG_* errors (not stanza errors), users isolated
 * from each other's rows, integer counts, and the IQ front translating the same errors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudgateError } from '../../core/index.js';
import { gateway as gw, instance as instProto, StanzaError } from '../../protocols/index.js';
import { StandInCloud } from './peers.js';
import { clusterIni, CONTEXT, engineSuite, startGateway, until } from './harness.js';

const code = (c: string, field?: string) => (e: unknown) => {
  assert.ok(e instanceof CloudgateError && !(e instanceof StanzaError), `a typed error, got ${String(e)}`);
  assert.equal(e.code, c, e.message);
  if (field !== undefined) assert.equal((e as { field?: string }).field, field);
  return true;
};

describe('gateway service layer', { timeout: 180_000 }, () => {
  const s = engineSuite('cgt-gw-service-');

  test('authorization, isolation, integer counts, typed errors', async () => {
    const host = s.t.host;
    const cloud = new StandInCloud(s.t, 'cloud-s', { name: 'cloud-s' });
    await cloud.start(`gateway-s@${host}`);
    s.running.push(cloud);
    const g = await startGateway(s.t, {
      dir: s.dir,
      user: 'gateway-s',
      clouds: [cloud.jid],
      policy: { deny: [`mallory@${host}`] },
    });
    s.running.push(g);
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    const svc = g.service;
    const alice = `alice@${host}`;
    const bob = `bob@${host}`;
    const mallory = `mallory@${host}`;

    // Denied users: every use case refuses them with one code; whoami still answers.
    assert.deepEqual(svc.users.whoami(mallory), { jid: mallory, admin: false, groups: [], allowed: false });
    assert.throws(() => svc.contexts.list(mallory), code('CG_FORBIDDEN'));
    assert.throws(() => svc.clusters.list(mallory), code('CG_FORBIDDEN'));
    assert.throws(() => svc.clouds.list(mallory), code('CG_FORBIDDEN'));
    assert.throws(() => svc.deployments.status(mallory), code('CG_FORBIDDEN'));
    await assert.rejects(svc.deployments.deploy(mallory, { cluster: 'batch' }), code('CG_FORBIDDEN'));
    await assert.rejects(svc.contexts.put(mallory, { name: 'x', body: CONTEXT }), code('CG_FORBIDDEN'));

    // A body the instance agent would refuse is refused at store, naming where; nothing is stored.
    await assert.rejects(
      svc.contexts.put(alice, { name: 'node', body: '[amiconfig]\nplugins = users\n\n[users]\nalice = x\n' }),
      (e: unknown) => code('CG_CONTEXT_REJECTED')(e) && /line 5 \[users\] key "alice"/.test((e as Error).message),
    );
    assert.deepEqual(svc.contexts.list(alice), []);
    const { context: ctx, warnings } = await svc.contexts.put(alice, { name: 'node', body: CONTEXT });
    assert.deepEqual(warnings, []);
    svc.clusters.put(alice, clusterIni({ context: 'node' }));

    // Counts are integers, checked against the definition, the field named.
    await assert.rejects(
      svc.deployments.deploy(alice, { cluster: 'batch', counts: { worker: 2.5 } }),
      code('CG_INVALID', 'counts.worker'),
    );
    await assert.rejects(
      svc.deployments.deploy(alice, { cluster: 'batch', counts: { worker: 7 } }),
      code('CG_INVALID', 'counts.worker'),
    );
    await assert.rejects(
      svc.deployments.deploy(alice, { cluster: 'batch', counts: { nosuch: 1 } }),
      code('CG_INVALID', 'counts.nosuch'),
    );
    await assert.rejects(svc.deployments.deploy(alice, { cluster: 'nosuch' }), code('CG_NOT_FOUND'));
    const d = await svc.deployments.deploy(alice, { cluster: 'batch', counts: { worker: 3 } });
    assert.equal(g.model.wanted.get(d.id, 'worker'), 3);
    assert.throws(
      () => svc.deployments.scale(alice, { deployment: d.id, service: 'worker', count: 1.5 }),
      code('CG_INVALID', 'count'),
    );
    assert.throws(
      () => svc.deployments.scale(alice, { deployment: d.id, service: 'head', count: 2 }),
      code('CG_INVALID', 'service'),
    );

    // Another user sees none of alice's rows: not found, exactly as if they did not exist.
    assert.throws(() => svc.deployments.get(bob, d.id), code('CG_NOT_FOUND'));
    assert.throws(() => svc.deployments.status(bob, d.id), code('CG_NOT_FOUND'));
    assert.throws(
      () => svc.deployments.scale(bob, { deployment: d.id, service: 'worker', count: 2 }),
      code('CG_NOT_FOUND'),
    );
    assert.throws(() => svc.deployments.destroy(bob, { deployment: d.id }), code('CG_NOT_FOUND'));
    assert.deepEqual(svc.deployments.status(bob), []);
    assert.throws(() => svc.clusters.get(bob, 'batch'), code('CG_NOT_FOUND'));
    assert.deepEqual(svc.clusters.list(bob), []);
    await assert.rejects(svc.contexts.read(bob, { ref: ctx.id }), code('CG_NOT_FOUND'));
    assert.throws(() => svc.contexts.clone(bob, { ref: ctx.id }), code('CG_NOT_FOUND'));
    // Once public, bob may read it, but only its owner changes its visibility.
    svc.contexts.setVisibility(alice, { ref: ctx.id, visibility: 'public' });
    assert.equal((await svc.contexts.read(bob, { ref: ctx.id })).body, CONTEXT);
    assert.throws(() => svc.contexts.setVisibility(bob, { ref: ctx.id, visibility: 'private' }), code('CG_NOT_FOUND'));
    assert.equal(svc.contexts.get(alice, ctx.id).visibility, 'public');
    // Admins see everyone's.
    assert.equal(svc.deployments.get(`admin@${host}`, d.id).id, d.id);

    // The IQ front translates the same errors to stanza errors with application conditions,
    // and tells the warnings of a stored context.
    const put = await s.alice.request(gw.PutContext, g.agent.jid, {
      name: 'odd',
      body: `${CONTEXT}\n[scriptz]\nafter = true\n`,
      visibility: undefined,
      passphrase: undefined,
    });
    assert.match(put.warnings?.join('\n') ?? '', /\[scriptz\]: section not applied/);
    await assert.rejects(
      s.alice.request(gw.PutContext, g.agent.jid, {
        name: 'odd',
        body: '[amiconfig]\nplugins = users\n\n[users]\nalice = x\n',
        visibility: undefined,
        passphrase: undefined,
      }),
      (e: unknown) =>
        e instanceof StanzaError && e.condition === 'bad-request' && /line 5 \[users\] key "alice"/.test(e.message),
    );
    assert.equal(svc.contexts.get(alice, 'odd').latest, 1);
    await assert.rejects(
      s.alice.request(gw.Status, g.agent.jid, { deployment: 'nosuch' }),
      (e: unknown) => e instanceof StanzaError && e.condition === 'item-not-found' && e.app === 'not-found',
    );
    await assert.rejects(
      s.alice.request(gw.Deploy, g.agent.jid, { cluster: 'batch', counts: { worker: 9 }, passphrase: undefined }),
      (e: unknown) =>
        e instanceof StanzaError &&
        e.condition === 'bad-request' &&
        e.app === 'invalid-field' &&
        /worker/.test(e.message),
    );
    const viaIq = await s.alice.request(gw.Deploy, g.agent.jid, {
      cluster: 'batch',
      counts: { worker: 4 },
      passphrase: undefined,
    });
    assert.equal(viaIq.deployment.services.find((x) => x.name === 'worker')?.wanted, 4);
    // Autoscaling and the marketplace answer with the same typed errors, and the IQ front translates them.
    assert.throws(() => svc.autoscale.show(mallory, d.id), code('CG_FORBIDDEN'));
    assert.throws(() => svc.autoscale.show(bob, d.id), code('CG_NOT_FOUND'));
    assert.throws(() => svc.autoscale.pause(alice, d.id, 'worker'), code('CG_NOT_FOUND'));
    assert.throws(() => svc.autoscale.pause(alice, d.id, 'nosuch'), code('CG_NOT_FOUND'));
    assert.throws(() => svc.autoscale.pause(alice, d.id, 'head'), code('CG_INVALID', 'service'));
    assert.throws(
      () => svc.autoscale.request(alice, { deployment: d.id, action: 'pause' }),
      code('CG_INVALID', 'service'),
    );
    assert.throws(
      () => svc.autoscale.request(alice, { deployment: d.id, action: 'set', service: 'worker' }),
      code('CG_INVALID', 'policy'),
    );
    assert.equal(
      svc.autoscale.set(alice, d.id, 'worker', 'policy = target\nmetric = load1\ntarget = 0.7').paused,
      false,
    );
    assert.equal(svc.autoscale.pause(alice, d.id, 'worker').paused, true);
    assert.deepEqual(
      svc.autoscale.show(alice, d.id).map((v) => [v.service, v.paused]),
      [['worker', true]],
    );
    await assert.rejects(
      s.alice.request(gw.Autoscale, g.agent.jid, {
        deployment: d.id,
        action: 'pause',
        service: 'head',
        policy: undefined,
      }),
      (e: unknown) =>
        e instanceof StanzaError &&
        e.condition === 'bad-request' &&
        e.app === 'invalid-field' &&
        /fixed service/.test(e.message),
    );
    assert.throws(() => svc.market.publish(mallory, { context: 'node', summary: 'x' }), code('CG_FORBIDDEN'));
    assert.throws(() => svc.market.publish(alice, { summary: 'nothing named' }), code('CG_INVALID', 'context'));
    assert.throws(
      () => svc.market.publish(alice, { context: 'node', cluster: 'batch', summary: 'both' }),
      code('CG_INVALID'),
    );
    assert.throws(() => svc.market.search(alice, { page: 0 }), code('CG_INVALID', 'page'));
    const entry = svc.market.publish(alice, { context: 'node', summary: 'a node' });
    assert.throws(() => svc.market.vote(bob, entry.id, 'sideways' as 'up'), code('CG_INVALID', 'value'));
    assert.throws(() => svc.market.vote(alice, entry.id, 'up'), code('CG_FORBIDDEN'));
    assert.throws(() => svc.market.unpublish(bob, entry.id), code('CG_FORBIDDEN'));
    assert.throws(() => svc.market.clone(bob, 'm-nosuch'), code('CG_NOT_FOUND'));

    // Ended cleanly: every stand-in machine up, then all terminated.
    for (const id of [d.id, viaIq.deployment.id]) {
      await until(`${id} completed`, () => g.model.deployments.require(id).state === 'completed');
      svc.deployments.destroy(alice, { deployment: id });
      await until(`${id} terminated`, () => g.model.instances.list(id).every((i) => i.state === 'terminated'));
    }
    assert.throws(() => svc.autoscale.resume(alice, d.id, 'worker'), code('CG_CONFLICT'));
  });

  test('an instance that rejects its context: each plugin problem reaches the events, status and the instance reason', async () => {
    const host = s.t.host;
    const cloud = new StandInCloud(s.t, 'cloud-r', { name: 'cloud-r' });
    await cloud.start(`gateway-r@${host}`);
    s.running.push(cloud);
    const g = await startGateway(s.t, { dir: s.dir, user: 'gateway-r', dbName: 'gw-r.db', clouds: [cloud.jid] });
    s.running.push(g);
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    const alice = `alice@${host}`;
    await g.service.contexts.put(alice, { name: 'node', body: CONTEXT });
    g.service.clusters.put(
      alice,
      '[cluster]\nname = solo\n\n[service.head]\ntype = fixed\nflavor = small\nimage = test-image\ncontext = node\n',
    );
    const d = await g.service.deployments.deploy(alice, { cluster: 'solo' });
    await until('completed', () => g.model.deployments.require(d.id).state === 'completed', 40_000);
    const fake = [...cloud.instances.values()].find((i) => i.service === 'head')!;
    const problem =
      'line 5 [users] key "alice": unknown option "x" (options: uid: gid: groups: home: shell: password:)';
    const gwJid = (
      await until('the gateway seen by the instance', () => fake.agent!.agent.presence.get(`gateway-r@${host}`))
    ).jid;
    await fake.agent!.agent.sendReliable(instProto.ContextReport, gwJid, {
      instance_id: fake.name,
      deployment: d.id,
      service: 'head',
      version: fake.contextVersion,
      ok: false,
      at: new Date().toISOString(),
      results: [
        { plugin: 'users', status: 'data-error', message: problem, detail: { problems: [problem] } },
        { plugin: 'environment', status: 'disabled', message: 'not applied: the context has errors' },
      ],
    });
    const ev = await until('the context event', () => g.model.events.list(d.id).find((e) => e.type === 'context'));
    assert.match(ev.message, /context version \d+ failed: users: line 5 \[users\] key "alice": unknown option "x"/);
    assert.deepEqual((ev.data as { problems?: unknown }).problems, [
      { plugin: 'users', status: 'data-error', message: problem },
    ]);
    const failed = g.model.instances.list(d.id).find((i) => i.id === (ev.data as { instance?: string }).instance);
    assert.match(failed?.reason ?? '', /context version \d+ failed: users: line 5 \[users\] key "alice"/);
    g.service.deployments.destroy(alice, { deployment: d.id });
    await until('terminated', () => g.model.instances.list(d.id).every((i) => i.state === 'terminated'), 40_000);
  });
});
