import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { makeAgent, silent } from '../helpers/agents.js';
import type { Agent } from '../../core/index.js';
import { ConnectionError } from '../../core/index.js';
import { Element } from 'ltx';
import { gateway as gw, StanzaError, TimeoutError } from '../../protocols/index.js';
import { until } from '../helpers/wait.js';
import {
  GatewayClient,
  GatewayUnreachableError,
  exitCodeFor,
  isReady,
  type DeploymentEventView,
} from '../../agents/gateway/client.js';
import { standInGateway, type StandIn } from './stand-in.js';

const cluster = readFileSync(new URL('../../../examples/cluster.ini', import.meta.url), 'utf8');

describe('GatewayClient against a stand-in gateway on a real ejabberd', () => {
  let t: TestServer;
  let gwAgent: Agent;
  let standIn: StandIn;
  let ada: GatewayClient;
  const connect = (user: string, extra: Partial<Parameters<typeof GatewayClient.connect>[0]> = {}) =>
    GatewayClient.connect({
      server: t.service,
      jid: `${user}@${t.host}`,
      jwtKey: t.server.info.jwtKeyFile,
      ca: t.ca,
      log: silent,
      gatewayTimeoutMs: 3000,
      ...extra,
    });

  before(async () => {
    t = await startEjabberd({}, { cleanup: false });
    gwAgent = await makeAgent(t, 'gateway', { kind: 'gateway', resource: 'main' });
    standIn = standInGateway(gwAgent, {
      users: { [`ada@${t.host}`]: { admin: true, groups: ['physics'] }, [`bob@${t.host}`]: {} },
      stepMs: 80,
    });
    await gwAgent.start();
    ada = await connect('ada');
    await ada.putCluster(cluster);
    await ada.putCluster(cluster.replace('name = batch', 'name = doomed-batch'));
  });
  after(async () => {
    standIn?.stop();
    await ada?.close();
    await gwAgent?.stop();
    await t?.stop();
  });

  test('finds the gateway session by presence and gets typed results', async () => {
    assert.equal(ada.gatewayJid, gwAgent.jid, 'requests go to the full JID of the gateway session');
    assert.deepEqual(await ada.whoami(), { jid: `ada@${t.host}`, admin: true, groups: ['physics'] });
    const clusters = await ada.clusters();
    assert.deepEqual(
      clusters.map((c) => [c.name, c.services]),
      [
        ['batch', ['head', 'worker']],
        ['doomed-batch', ['head', 'worker']],
      ],
    );
    const [cloud] = await ada.clouds();
    assert.equal(cloud?.driver, 'local');
    assert.equal(typeof cloud?.free_instances, 'number');
  });

  test('deploy, follow with catch-up (nothing missed, nothing twice), wait until ready', async () => {
    const d = await ada.deploy('batch', { counts: { worker: 2 } });
    assert.equal(d.state, 'pending');
    assert.deepEqual(
      d.services.map((s) => [s.name, s.wanted]),
      [
        ['head', 1],
        ['worker', 2],
      ],
    );
    // Events were published before the answer reached us: catch-up must deliver them.
    const events: DeploymentEventView[] = [];
    const f = await ada.follow(d.id, (e) => events.push(e));
    assert.ok(events.length >= standIn.publishedBefore, `caught up ${events.length} events`);
    assert.deepEqual(
      events.slice(0, 2).map((e) => e.type),
      ['created', 'placement'],
    );
    const progress: string[] = [];
    const final = await ada.waitFor(d.id, ['ready'], {
      timeoutMs: 10_000,
      pollMs: 500,
      onProgress: ({ view }) => {
        if (view) progress.push(view.services.map((s) => s.ready).join('/'));
      },
    });
    assert.ok(isReady(final));
    assert.deepEqual(
      final.services.map((s) => s.ready),
      [1, 2],
    );
    for (let i = 0; i < 50 && events.at(-1)?.type !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
    await f.stop();
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'delivered in order',
    );
    assert.equal(new Set(seqs).size, seqs.length, 'each event once');
    assert.equal(events.at(-1)?.type, 'ready', 'live events after catch-up arrived');
    assert.equal(events.filter((e) => e.type === 'instance').length, 3);
    assert.ok(progress.length >= 2, 'progress was reported');
    assert.equal(f.lastSeq, seqs.at(-1));
  });

  test('following a finished deployment replays its whole history', async () => {
    const [done] = (await ada.status()).filter((d) => isReady(d));
    assert.ok(done);
    const events: DeploymentEventView[] = [];
    const f = await ada.follow(done.id, (e) => events.push(e));
    await f.stop();
    assert.deepEqual(
      events.map((e) => e.type),
      ['created', 'placement', 'instance', 'instance', 'instance', 'ready'],
    );
  });

  test('a deployment event sent by anyone but the PubSub service is ignored; the real ones still arrive', async () => {
    const d = await ada.deploy('batch', { counts: { worker: 3 } });
    const events: DeploymentEventView[] = [];
    const f = await ada.follow(d.id, (e) => events.push(e));
    // A stranger messages the follower a look-alike notification far ahead in sequence:
    // taken as real, it would end the deployment early and every real event after it
    // (lower seq) would be dropped as already seen.
    const mallory = await makeAgent(t, 'mallory');
    await mallory.start();
    try {
      const forged = new Element('message', { to: ada.jid });
      forged
        .c('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' })
        .c('items', { node: f.node })
        .c('item', { id: 'e999999999999999' })
        .cnode(
          gw.DeploymentEvent.payload.encode({
            deployment: d.id,
            seq: 1_000_000,
            type: 'ready',
            message: 'forged',
            state: 'running',
            data: undefined,
            at: new Date().toISOString(),
          }),
        );
      await mallory.conn.send(forged);
      await until('the real ready event', () => events.some((e) => e.type === 'ready'), 15_000);
    } finally {
      await f.stop();
      await mallory.stop();
    }
    assert.deepEqual(
      events.filter((e) => e.message === 'forged'),
      [],
      'the forged event was not delivered',
    );
    assert.equal(events.filter((e) => e.type === 'instance').length, 4, 'every real event arrived');
    assert.ok(f.lastSeq < 1_000_000);
  });

  test('waitFor stops at a failed deployment and returns it; times out with TimeoutError', async () => {
    const d = await ada.deploy('doomed-batch');
    const final = await ada.waitFor(d.id, ['ready'], { timeoutMs: 10_000 });
    assert.equal(final.state, 'failed');
    const slow = await ada.deploy('batch', { counts: { worker: 10 } });
    await assert.rejects(
      ada.waitFor(slow.id, ['ready'], { timeoutMs: 300 }),
      (e: unknown) => e instanceof TimeoutError && /did not reach ready/.test(e.message) && exitCodeFor(e) === 5,
    );
    await ada.destroy(slow.id);
  });

  test('scale reports only its own progress (afterSeq); destroy waits until nothing is left', async () => {
    const d = await ada.deploy('batch', { counts: { worker: 1 } });
    await ada.waitFor(d.id, ['ready'], { timeoutMs: 10_000 });
    const since = await ada.lastEventSeq(d.id);
    assert.ok(since > 0);
    const scaled = await ada.scale(d.id, 'worker', 3);
    assert.equal(scaled.services.find((s) => s.name === 'worker')?.wanted, 3);
    const seen: DeploymentEventView[] = [];
    const ready = await ada.waitFor(d.id, ['ready'], {
      timeoutMs: 10_000,
      afterSeq: since,
      onProgress: ({ event }) => {
        if (event) seen.push(event);
      },
    });
    assert.equal(ready.services.find((s) => s.name === 'worker')?.ready, 3);
    assert.ok(seen.length > 0 && seen.every((e) => e.seq > since), 'no event from before the scale');
    assert.equal(seen[0]?.type, 'scale');
    await ada.destroy(d.id);
    const gone = await ada.waitFor(d.id, ['gone'], { timeoutMs: 10_000 });
    assert.equal(gone.state, 'aborted');
    assert.ok(gone.instances.every((i) => i.state === 'terminated'));
    assert.equal((await ada.status(d.id)).state, 'aborted');
  });

  test('typed errors pass through with condition and application condition', async () => {
    const is = (condition: string, app: string | undefined, exit: number) => (e: unknown) =>
      e instanceof StanzaError && e.condition === condition && e.app === app && exitCodeFor(e) === exit;
    await assert.rejects(ada.deploy('nonexistent'), is('item-not-found', 'not-found', 4));
    await assert.rejects(ada.deploy('quota-batch'), is('resource-constraint', 'quota-exceeded', 3));
    await assert.rejects(ada.status('d999'), is('item-not-found', 'not-found', 4));
    await assert.rejects(ada.putCluster('[cluster]\nname = broken\n'), is('bad-request', 'invalid-field', 2));
    const d = (await ada.status())[0]!;
    await assert.rejects(ada.scale(d.id, 'head', 2), is('bad-request', 'invalid-field', 2));
    const bob = await connect('bob');
    try {
      await assert.rejects(
        bob.status(d.id),
        is('item-not-found', 'not-found', 4),
        "another user's deployment is not found",
      );
    } finally {
      await bob.close();
    }
    const eve = await connect('eve');
    try {
      await assert.rejects(eve.whoami(), is('forbidden', 'not-in-acl', 3));
    } finally {
      await eve.close();
    }
  });

  test('contexts: versions, encryption, clone, pairing code', async () => {
    const head = readFileSync(new URL('../../../examples/head.context.ini', import.meta.url), 'utf8');
    const v1 = await ada.putContext('head', head, { visibility: 'public' });
    assert.deepEqual([v1.name, v1.version, v1.visibility, v1.encrypted], ['head', 1, 'public', false]);
    const v2 = await ada.putContext('head', head + '\n; v2\n');
    assert.equal(v2.version, 2);
    assert.equal((await ada.getContext('head', { version: 1 })).body, head);
    await ada.putContext('secret', head, { passphrase: 'correct horse' });
    await assert.rejects(ada.getContext('secret'), (e: unknown) => e instanceof StanzaError && e.app === 'passphrase');
    assert.equal((await ada.getContext('secret', { passphrase: 'correct horse' })).body, head);
    const copy = await ada.cloneContext('head', 'head-copy');
    assert.equal(copy.parent, v1.id);
    assert.ok((await ada.contexts()).some((c) => c.name === 'head-copy'));
    const p = await ada.pairingCode('head', { ttlS: 60 });
    assert.match(p.code, /^[0-9a-f]{12}$/);
    assert.ok(p.expires > Date.now() / 1000);
  });

  test('no gateway online: GatewayUnreachableError (exit 5); bad login: refused (exit 3)', async () => {
    const started = Date.now();
    await assert.rejects(
      connect('ada', { gateway: `nobody@${t.host}`, gatewayTimeoutMs: 500 }),
      (e: unknown) => e instanceof GatewayUnreachableError && exitCodeFor(e) === 5,
    );
    assert.ok(Date.now() - started < 5000);
    await assert.rejects(
      connect('ada', { jwtKey: undefined, password: 'wrong' }),
      (e: unknown) => e instanceof ConnectionError && e.permanent && exitCodeFor(e) === 3,
    );
  });
});
