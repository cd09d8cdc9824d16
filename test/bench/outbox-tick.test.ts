/**
 * The outbox tick of core/reliable.ts, changed for the agents benchmark: it reads the table
 * only when something can be due, yet a message is still re-sent until its receipt, and a
 * new session still re-sends everything at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { openStore, createLogger } from '../../core/index.js';
import { Reliable, NS_RECEIPTS } from '../../core/reliable.js';
import { defineMessage, object, str } from '../../protocols/index.js';

const Note = defineMessage('urn:cloudgate:bench-test:1', 'note', object({ text: str() }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function harness(resendMs: number) {
  const db = openStore(':memory:', []);
  const sent: Element[] = [];
  let reads = 0;
  const prepare = db.prepare.bind(db);
  // Counts reads of due rows: the query the tick used to run every second.
  (db as { prepare: typeof db.prepare }).prepare = ((sql: string) => {
    if (sql.startsWith('SELECT id, stanza')) reads++;
    return prepare(sql);
  }) as typeof db.prepare;
  const r = new Reliable(
    db,
    async (el) => {
      sent.push(el);
    },
    createLogger({ level: 'silent' }),
    { resendMs, maxResendMs: resendMs * 4 },
  );
  const receipt = (id: string) => {
    const m = new Element('message', { from: 'peer@x/r', type: 'normal' });
    m.c('received', { xmlns: NS_RECEIPTS, id });
    return r.onMessage(m);
  };
  return { r, db, sent, receipt, reads: () => reads };
}

test('an idle outbox is not read on every tick', async () => {
  const h = harness(100);
  h.r.start();
  try {
    await sleep(50);
    const after = h.reads();
    await sleep(650); // six or seven ticks
    assert.equal(h.reads(), after, 'no reads while nothing is queued');
  } finally {
    h.r.stop();
    h.db.close();
  }
});

test('a queued message is re-sent when due until its receipt, then the tick goes quiet', async () => {
  const h = harness(100);
  h.r.start();
  try {
    await sleep(20);
    const id = await h.r.sendReliable(Note, 'peer@x', { text: 'hello' });
    assert.equal(h.sent.length, 1);
    await sleep(350);
    assert.ok(h.sent.length >= 2, `re-sent (${h.sent.length} sends)`);
    assert.ok(h.sent.every((el) => el.attrs.id === id));
    await h.receipt(id);
    assert.equal(h.r.pending(), 0);
    await sleep(450); // the tick may read once more, to learn the outbox is empty
    const reads = h.reads();
    const sends = h.sent.length;
    await sleep(500);
    assert.equal(h.reads(), reads);
    assert.equal(h.sent.length, sends, 'nothing re-sent after the receipt');
  } finally {
    h.r.stop();
    h.db.close();
  }
});

test('resendAll sends everything outstanding at once, whatever its due time', async () => {
  const h = harness(60_000);
  try {
    await h.r.sendReliable(Note, 'peer@x', { text: 'a' });
    await h.r.sendReliable(Note, 'peer@x', { text: 'b' });
    assert.equal(h.sent.length, 2);
    await h.r.resendAll();
    assert.equal(h.sent.length, 4);
  } finally {
    h.db.close();
  }
});
