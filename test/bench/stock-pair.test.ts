/**
 * The rpc benchmark's stock-client baseline, paced, against a real ejabberd whose
 * stream-management ack queue is made small (1000): the paced pair delivers thousands of
 * messages without the server closing it, where the same pair sending with a wide window
 * and no acknowledgements of its own is closed ("Too many unacked stanzas") and the run
 * says so instead of hanging or throwing something else.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stockPair, stockRate, stockRtt, type StockPair } from '../../bench/lib/index.js';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';

let t: TestServer;
const pairs: StockPair[] = [];

before(async () => {
  t = await startEjabberd({ maxAckQueue: 1000 }, { cleanup: false });
});
after(async () => {
  for (const p of pairs) await p.stop();
  await t?.stop();
});

const server = () => ({ service: t.service, host: t.host, server: t.server });
const TICK = { ns: 'urn:cloudgate:bench:1', data: 'payload-0123456789', stallMs: 20_000 };

test('paced: 5000 one-way messages and 200 round trips through a 1000-stanza ack queue, never closed', {
  timeout: 120_000,
}, async () => {
  const p = await stockPair(server(), { window: 200, ackEvery: 50 }, () => {}, ['paced-a', 'paced-b']);
  pairs.push(p);
  const rate = await stockRate(p, 5000, { window: 200, ackEvery: 50, ...TICK });
  assert.ok(rate.perS > 0);
  const rtt = await stockRtt(p, 200);
  assert.ok(rtt.p50 > 0 && rtt.p99 >= rtt.p50);
  assert.deepEqual(p.drops, []);
});

test('unpaced: the server closes the pair, and the round fails naming that', { timeout: 120_000 }, async () => {
  const p = await stockPair(server(), { ackEvery: 0 }, () => {}, ['wide-a', 'wide-b']);
  pairs.push(p);
  await assert.rejects(
    stockRate(p, 5000, { window: 5000, ackEvery: 0, ...TICK }),
    /closed the stock pair|arrived, none for/,
  );
  assert.ok(p.drops.length > 0, 'a session was closed');
});
