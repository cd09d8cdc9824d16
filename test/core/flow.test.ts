/** FlowControl (core/flow.ts) without a server: window, order, credits, stalls. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowControl, NS_FLOW } from '../../core/flow.js';

const settle = () => new Promise((r) => setImmediate(r));

test('slots within the window are granted at once, with a credit request every `every`', () => {
  const f = new FlowControl({ window: 8, every: 4, stallMs: 60_000 });
  const slots = Array.from({ length: 8 }, () => f.before('peer@x'));
  assert.ok(
    slots.every((s) => !(s instanceof Promise)),
    'no waiting inside the window',
  );
  const credits = slots.map((s) => (s && !(s instanceof Promise) ? `${s.attrs.xmlns} ${s.attrs.seq}` : null));
  assert.deepEqual(credits, [null, null, null, `${NS_FLOW} 4`, null, null, null, `${NS_FLOW} 8`]);
  assert.ok(f.before('peer@x') instanceof Promise, 'the ninth waits');
  assert.ok(!(f.before('other@x') instanceof Promise), 'windows are per peer');
});

test('an answer lets exactly as many waiters go as it freed, in call order', async () => {
  const f = new FlowControl({ window: 4, every: 2, stallMs: 60_000 });
  for (let i = 0; i < 4; i++) f.before('p');
  const order: number[] = [];
  const waiting = Array.from({ length: 10 }, (_, i) =>
    Promise.resolve(f.before('p')).then(() => {
      order.push(i);
    }),
  );
  assert.equal(f.waiting('p'), 10);
  f.onAck('p', 2); // two slots free
  await settle();
  assert.deepEqual(order, [0, 1]);
  f.onAck('p', 2); // stale: nothing more
  f.onAck('p', 1);
  await settle();
  assert.deepEqual(order, [0, 1]);
  f.onAck('p', 6);
  await settle();
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  f.release('p'); // the peer went away
  await settle();
  assert.equal(order.length, 10);
  await Promise.all(waiting);
  assert.equal(f.waiting('p'), 0);
});

test('a burst of 100,000 queued sends drains whole, in order of answers', async () => {
  const f = new FlowControl({ window: 4096, every: 256, stallMs: 60_000 });
  let done = 0;
  const all = Array.from({ length: 100_000 }, () =>
    Promise.resolve(f.before('p')).then(() => {
      done++;
    }),
  );
  for (let seq = 256; seq <= 100_000 + 256; seq += 256) {
    f.onAck('p', seq);
    await settle();
  }
  await Promise.all(all);
  assert.equal(done, 100_000);
  assert.equal(f.waiting('p'), 0); // speed is the rpc benchmark's business, not this test's
});

test('a peer that never answers releases the window after stallMs', async () => {
  const f = new FlowControl({ window: 2, every: 100, stallMs: 100 });
  f.before('mute');
  f.before('mute');
  const t0 = Date.now();
  const keepAlive = setTimeout(() => {}, 10_000); // the stall timer is unref'd, as it should be
  await f.before('mute');
  clearTimeout(keepAlive);
  const waited = Date.now() - t0;
  assert.ok(waited >= 90 && waited < 5000, `waited ${waited} ms`);
});
