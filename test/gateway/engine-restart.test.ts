/**
 * The gateway's engine across its own restart and its instances' losses, against a real
 * ejabberd with stand-in cloud and instance agents.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gateway as gw } from '../../protocols/index.js';
import type { Gateway } from '../../agents/gateway/index.js';
import { StandInCloud } from './peers.js';
import { clusterIni, engineSuite, prepare, startGateway, status, until } from './harness.js';

describe('gateway engine: restarts and lost instances', { timeout: 120_000 }, () => {
  const s = engineSuite('cgt-gw-restart-');
  const { running } = s;

  async function deploy(g: Gateway, initial: number) {
    await prepare(s.alice, g.agent.jid, clusterIni({ initial }).replace(/^image = /gm, 'context = node\nimage = '));
    return (
      await s.alice.request(gw.Deploy, g.agent.jid, { cluster: 'batch', counts: undefined, passphrase: undefined })
    ).deployment.id;
  }

  test('a gateway restarted mid-deployment finishes it with exactly the requested instances', async () => {
    const ca = new StandInCloud(s.t, 'cloud-r1', { name: 'cloud-a', quota: 2 });
    const cb = new StandInCloud(s.t, 'cloud-r2', { name: 'cloud-b' });
    const gwBare = `gw-restart@${s.t.host}`;
    await ca.start(gwBare);
    await cb.start(gwBare);
    running.push(ca, cb);
    const opts = { dir: s.dir, user: 'gw-restart', dbName: 'restart.db', clouds: [ca.jid, cb.jid] };
    const g1 = await startGateway(s.t, opts);
    await until('clouds online', () => g1.agent.peers('cloud').length === 2);
    const id = await deploy(g1, 3);
    // Stop as soon as the head was asked for: the workers are not allocated yet.
    await until('head allocated', () => ca.allocations.length === 1, 10_000, 5);
    await g1.stop();
    assert.notEqual(g1.model.db.open, true);

    const g2 = await startGateway(s.t, opts);
    running.push(g2);
    const d = await until('completed after the restart', async () => {
      const x = await status(s.alice, g2.agent.jid, id);
      return x.state === 'completed' ? x : undefined;
    });
    assert.equal(d.instances.length, 5, 'head, 3 workers and a head replica');
    const live = [...ca.live(), ...cb.live()].map((i) => i.name).sort();
    assert.deepEqual(
      live,
      d.instances.map((i) => `${id}-${i.name}`).sort(),
      'the clouds run exactly what the gateway knows',
    );
    assert.equal(new Set(live).size, 5);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ca.live().length + cb.live().length, 5, 'and nothing more arrives later');
  });

  test('lost instances are reported and replaced: a worker (above min) and the head', async () => {
    const ca = new StandInCloud(s.t, 'cloud-l1', { name: 'cloud-a', heartbeatMs: 100 });
    const gwBare = `gw-lost@${s.t.host}`;
    await ca.start(gwBare);
    running.push(ca);
    const g = await startGateway(s.t, {
      dir: s.dir,
      user: 'gw-lost',
      dbName: 'lost.db',
      clouds: [ca.jid],
      settings: { heartbeatTimeoutMs: 800 },
    });
    running.push(g);
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    const id = await deploy(g, 2);
    await until('completed', async () => (await status(s.alice, g.agent.jid, id)).state === 'completed');
    const replaced = () => g.model.jobs.list(id).filter((j) => j.kind === 'replace' && j.state === 'succeeded').length;

    const worker = [...ca.instances.values()].find((i) => i.service === 'worker')!;
    worker.agent!.silence();
    let d = await until('worker replaced', async () => {
      const x = await status(s.alice, g.agent.jid, id);
      return replaced() === 1 && x.instances.some((i) => i.name === 'worker-3' && i.ready) ? x : undefined;
    });
    assert.deepEqual(
      d.services.map((s) => [s.name, s.wanted, s.ready]),
      [
        ['head', 1, 1],
        ['worker', 2, 2],
      ],
      'the wanted count is kept',
    );
    assert.ok(
      g.model.events
        .list(id)
        .some((e) => e.type === 'lost' && e.message.startsWith(`${worker.name.slice(id.length + 1)} lost`)),
      'the loss is reported',
    );
    await until('lost worker terminated', () => ca.live().length === 3);
    assert.ok(!ca.live().some((i) => i.name === worker.name), 'the silent worker is terminated in the cloud');

    const head = [...ca.instances.values()].find((i) => i.service === 'head')!;
    head.agent!.silence();
    // The replacement can be ready while the lost head is still being terminated and so
    // still listed: wait until it has left the view, then count.
    const lostHead = head.name.slice(id.length + 1);
    d = await until('head replaced and the lost head gone from the view', async () => {
      const x = await status(s.alice, g.agent.jid, id);
      return replaced() === 2 &&
        x.instances.some((i) => i.name === 'head-2' && i.ready) &&
        !x.instances.some((i) => i.name === lostHead)
        ? x
        : undefined;
    });
    assert.deepEqual(
      d.services.map((s) => [s.name, s.wanted, s.ready]),
      [
        ['head', 1, 1],
        ['worker', 2, 2],
      ],
    );
    assert.equal(d.instances.length, 3, 'three live instances, none duplicated');
    await until('lost head terminated', () => ca.live().length === 3);
  });

  test('a cloud agent back from a restart that refuses its first lists is reconciled once it answers', async () => {
    const ca = new StandInCloud(s.t, 'cloud-b1', { name: 'cloud-a' });
    const gwBare = `gw-back@${s.t.host}`;
    await ca.start(gwBare);
    running.push(ca);
    const g = await startGateway(s.t, { dir: s.dir, user: 'gw-back', dbName: 'back.db', clouds: [ca.jid] });
    running.push(g);
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    const id = await deploy(g, 1);
    await until('completed', async () => (await status(s.alice, g.agent.jid, id)).state === 'completed');
    const noted = (re: RegExp) => g.model.events.list(id).some((e) => e.type === 'cloud' && re.test(e.message));

    await ca.agent.stop();
    await until('the cloud noted offline', () => noted(/ offline$/));
    ca.o.failLists = 2;
    await ca.start(gwBare);
    await until('the cloud noted back and reconciled', () => noted(/ reconciled: it lists 2 instance\(s\)/), 20_000);
    assert.ok(noted(/ online$/), 'its return is noted as such');
    assert.equal(ca.listsRefused, 2, 'the first two lists were refused and asked again');

    // Back once more, and refusing every list: its return is in the history all the same.
    await ca.agent.stop();
    await until(
      'the cloud noted offline again',
      () => g.model.events.list(id).filter((e) => e.type === 'cloud' && / offline$/.test(e.message)).length === 2,
    );
    ca.o.failLists = Number.MAX_SAFE_INTEGER;
    await ca.start(gwBare);
    await until(
      'the cloud noted back, not reconciled',
      () => noted(/ not reconciled: it did not list its instances in time$/),
      30_000,
    );
  });
});
