/** paced(): the login-storm pacing of the scale benchmarks (bench/lib/pace.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paced } from '../../bench/lib/index.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

test('never more than `concurrency` tasks at once, and every item gets a result in its place', async () => {
  let now = 0;
  let peak = 0;
  const r = await paced(
    Array.from({ length: 40 }, (_, i) => i),
    { concurrency: 7 },
    async (x) => {
      peak = Math.max(peak, ++now);
      await tick(Math.random() * 5);
      now--;
      return x * 2;
    },
  );
  assert.equal(peak, 7);
  assert.deepEqual(
    r.results,
    Array.from({ length: 40 }, (_, i) => i * 2),
  );
  assert.equal(r.errors.size, 0);
  assert.equal(r.retries, 0);
});

test('a failed try is retried after a backoff; an item failing every try is an error, the rest go on', async () => {
  const tries = new Map<number, number>();
  const retried: Array<[number, number]> = [];
  const t0 = Date.now();
  const r = await paced(
    [0, 1, 2, 3],
    { concurrency: 2, attempts: 3, baseMs: 20, maxMs: 40, onRetry: (i, a) => retried.push([i, a]) },
    async (x) => {
      const n = (tries.get(x) ?? 0) + 1;
      tries.set(x, n);
      if (x === 1 && n < 3) throw new Error('listener busy');
      if (x === 3) throw new Error(`refused ${n}`);
      return `ok ${x}`;
    },
  );
  assert.deepEqual(r.results, ['ok 0', 'ok 1', 'ok 2', undefined]);
  assert.deepEqual([...r.errors.keys()], [3]);
  assert.equal((r.errors.get(3) as Error).message, 'refused 3', "the last try's error");
  assert.equal(r.retries, 4);
  assert.deepEqual(retried.sort(), [
    [1, 1],
    [1, 2],
    [3, 1],
    [3, 2],
  ]);
  assert.ok(Date.now() - t0 < 1000);
});

test('an aborted signal stops taking new items', async () => {
  const ac = new AbortController();
  let started = 0;
  const r = await paced(
    Array.from({ length: 100 }, (_, i) => i),
    { concurrency: 2, signal: ac.signal },
    async (x) => {
      started++;
      if (x === 5) ac.abort();
      await tick(1);
      return x;
    },
  );
  assert.ok(started <= 8, `started ${started}`);
  assert.equal(r.results.filter((x) => x !== undefined).length, started);
});
