/**
 * An agent keeps at most maxOutstanding requests awaiting their answer; the rest wait their
 * turn in order, and a request's timeout counts from when it was sent, not from when it
 * was queued. Without the window, a fan-out to 10,000 agents had 10,000 answers queued for
 * one session and the server ended that session. The transport here is a recorder (a unit
 * test of the window); the end-to-end effect is measured by the agents benchmark.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { Rpc } from '../../core/rpc.js';
import { defineRequest, object, int, TimeoutError } from '../../protocols/index.js';
import { silent } from '../helpers/agents.js';

const Ask = defineRequest('urn:test:window', 'ask', {
  request: object({ n: int() }),
  response: object({ n: int() }),
  timeoutMs: 60_000,
});

function recorder(max: number) {
  const sent: Element[] = [];
  const rpc = new Rpc(
    async (el) => {
      sent.push(el);
    },
    silent,
    { maxConcurrent: 10, identity: () => ({ category: 'client', type: 'bot', name: 't' }), maxOutstanding: max },
  );
  const answer = (el: Element) => {
    const n = Number(el.getChild('ask')!.attrs.n);
    const r = new Element('iq', { type: 'result', id: el.attrs.id, from: el.attrs.to });
    r.cnode(Ask.response.encode({ n }));
    rpc.onIq(r);
  };
  return { rpc, sent, answer };
}

const turn = () => new Promise((r) => setImmediate(r));

test('at most maxOutstanding requests await an answer; the others are sent in order as answers come', async () => {
  const { rpc, sent, answer } = recorder(2);
  const results = [1, 2, 3, 4, 5].map((n) => rpc.request(Ask, `a${n}@x/r`, { n }));
  await turn();
  assert.deepEqual(
    sent.map((e) => e.attrs.to),
    ['a1@x/r', 'a2@x/r'],
  );
  assert.equal(rpc.queuedCount, 3);
  answer(sent[1]!);
  await turn();
  assert.deepEqual(
    sent.map((e) => e.attrs.to),
    ['a1@x/r', 'a2@x/r', 'a3@x/r'],
  );
  for (let i = 0; i < 10 && sent.length < 5; i++) {
    for (const el of sent.slice()) answer(el);
    await turn();
  }
  for (const el of sent) answer(el);
  assert.deepEqual(
    (await Promise.all(results)).map((r) => r.n),
    [1, 2, 3, 4, 5],
  );
  assert.equal(rpc.queuedCount, 0);
});

test('a queued request times out only after it was sent, and a failed one frees its slot', async () => {
  const { rpc, sent, answer } = recorder(1);
  const first = rpc.request(Ask, 'a@x/r', { n: 1 }, { timeoutMs: 50 });
  const second = rpc.request(Ask, 'b@x/r', { n: 2 }, { timeoutMs: 50 });
  await assert.rejects(first, TimeoutError);
  await turn();
  assert.equal(sent.length, 2, 'the second is sent once the first has timed out');
  answer(sent[1]!);
  assert.equal((await second).n, 2);
});
