import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { openStore, StoppedError, type Agent, type PeerEvent } from '../../core/index.js';
import {
  defineRequest,
  defineMessage,
  defineEvent,
  definePresence,
  object,
  str,
  int,
  optional,
  StanzaError,
  TimeoutError,
  forbidden,
} from '../../protocols/index.js';
import { Element } from 'ltx';

const NS = 'urn:cloudgate:test:1';
const Add = defineRequest(NS, 'add', {
  request: object({ a: int(), b: int() }),
  response: object({ sum: int() }),
  timeoutMs: 3000,
});
const Fail = defineRequest(NS, 'fail', { request: object({ how: str() }), response: object({}) });
const Slow = defineRequest(NS, 'slow', { request: object({}), response: object({}) });
const Held = defineRequest(NS, 'held', { request: object({}), response: object({ who: str() }), timeoutMs: 5000 });
const Work = defineMessage(NS, 'work', object({ n: int(), note: optional(str()) }));
const Progress = defineEvent(NS, 'progress', object({ step: int() }));
const Status = definePresence(NS, 'worker', object({ free: int() }));

describe('agent runtime against a real ejabberd', () => {
  let t: TestServer;
  let a: Agent;
  let b: Agent;
  let c: Agent;
  let heldId: ((id: string) => void) | undefined;
  let release: (() => void) | undefined;
  before(async () => {
    t = await startEjabberd({}, { cleanup: false });
    a = await makeAgent(t, 'alpha');
    b = await makeAgent(t, 'beta', { kind: 'worker' });
    b.handle(Add, ({ a: x, b: y }) => ({ sum: x + y }));
    b.handle(Fail, ({ how }) => {
      if (how === 'typed') throw forbidden('you may not', 'not-in-acl');
      throw new Error('secret internal detail');
    });
    b.handle(Slow, () => new Promise(() => {}));
    b.handle(Held, async (_q, ctx) => {
      await new Promise<void>((r) => {
        release = r;
        heldId?.(ctx.id);
      });
      return { who: 'beta' };
    });
    c = await makeAgent(t, 'gamma');
    await Promise.all([a.start(), b.start(), c.start()]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
    await t?.stop();
  });

  test('an answer from a JID the request was not sent to is ignored', async () => {
    const id = new Promise<string>((r) => {
      heldId = r;
    });
    const answer = a.request(Held, b.jid, {});
    const reqId = await id;
    // Another account answers first, with a result and then with an error, under the same id.
    await c.conn.send(
      new Element('iq', { type: 'result', to: a.jid, id: reqId }).cnode(Held.response.encode({ who: 'gamma' })).root(),
    );
    await c.conn.send(
      new Element('iq', { type: 'error', to: a.jid, id: reqId })
        .cnode(new StanzaError('forbidden', 'forged').toElement())
        .root(),
    );
    assert.deepEqual(
      await Promise.race([answer, new Promise((r) => setTimeout(() => r('still waiting'), 500))]),
      'still waiting',
    );
    release!();
    assert.deepEqual(await answer, { who: 'beta' }, 'the real answer is the one returned');
  });

  test('typed request and result', async () => {
    assert.deepEqual(await a.request(Add, b.jid, { a: 2, b: 40 }), { sum: 42 });
  });

  test('typed error carries its condition and application condition', async () => {
    await assert.rejects(
      a.request(Fail, b.jid, { how: 'typed' }),
      (e: any) =>
        e instanceof StanzaError &&
        e.condition === 'forbidden' &&
        e.app === 'not-in-acl' &&
        e.message === 'you may not',
    );
  });

  test('other throw becomes internal-server-error without the detail', async () => {
    await assert.rejects(
      a.request(Fail, b.jid, { how: 'boom' }),
      (e: any) => e.condition === 'internal-server-error' && !e.message.includes('secret'),
    );
  });

  test('no handler is service-unavailable; bad field is bad-request naming it', async () => {
    const p = new Element('nothing', { xmlns: 'urn:example:unknown' });
    await assert.rejects(a.iq(b.jid, 'get', p), (e: any) => e.condition === 'service-unavailable');
    const bad = new Element('add', { xmlns: NS, a: 'x', b: '1' });
    await assert.rejects(
      a.iq(b.jid, 'set', bad),
      (e: any) => e.condition === 'bad-request' && /add\/@a/.test(e.message),
    );
  });

  test('timeouts reject with a TimeoutError', async () => {
    await assert.rejects(a.request(Slow, b.jid, {}, { timeoutMs: 200 }), (e: any) => e instanceof TimeoutError);
  });

  test('presence carries the typed payload; peers go online and offline', async () => {
    a.registerPresence(Status);
    const seen = new Promise<PeerEvent>((r) =>
      a.on('peer', (e: PeerEvent) => {
        if (e.type !== 'offline' && e.peer.kind === 'worker' && (e.peer.data as any)?.free === 7) r(e);
      }),
    );
    await b.setPresence(Status, { free: 7 });
    await b.announceTo(a.bare);
    const e = await seen;
    assert.equal(e.peer.bare, b.bare);
    for (let i = 0; i < 100 && !b.peers().some((p) => p.bare === a.bare); i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(
      b.peers().some((p) => p.bare === a.bare),
      'the peer answered with its own presence',
    );
  });

  test('chat commands with permissions and generated help', async () => {
    b.chat.add({
      name: 'echo',
      usage: 'echo <words…>',
      summary: 'say it back',
      allow: () => true,
      run: (args) => args.positional.join(' '),
    });
    b.chat.add({ name: 'secret', usage: 'secret', summary: 'admins only', allow: () => false, run: () => 'no' });
    const replies: string[] = [];
    const got = (n: number) =>
      new Promise<void>((r) => {
        const on = (el: Element) => {
          if (el.is('message') && el.attrs.type === 'chat') {
            replies.push(el.getChildText('body')!);
            if (replies.length >= n) {
              a.conn.off('stanza', on);
              r();
            }
          }
        };
        a.conn.on('stanza', on);
      });
    const wait = got(4);
    for (const body of ['echo "hello world" again', 'help', 'secret', 'nonsense']) {
      const m = new Element('message', { to: b.jid, type: 'chat' });
      m.c('body').t(body);
      await a.conn.send(m); // as a person's chat client would: no agent reply marker
    }
    await wait;
    assert.equal(replies[0], 'hello world again');
    assert.match(replies[1], /echo <words…>/);
    assert.doesNotMatch(replies[1], /secret/);
    assert.match(replies[2], /not allowed/);
    assert.match(replies[3], /Unknown command 'nonsense'/);
  });

  test('pubsub: ensure node, subscribe, typed events, catch-up', async () => {
    const node = `test-${Date.now()}`;
    await a.pubsub.ensureNode(node, { maxItems: 100 });
    await a.pubsub.ensureNode(node, { maxItems: 100 }); // idempotent
    const got: number[] = [];
    b.onEvent(Progress, (p) => {
      got.push(p.step);
    });
    await b.pubsub.subscribe(node);
    await a.pubsub.publish(Progress, node, { step: 1 });
    await a.pubsub.publish(Progress, node, { step: 2 });
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, [1, 2]);
    got.length = 0; // before publishing: the notification may arrive before publish() returns
    await a.pubsub.publish(Progress, node, { step: 3 });
    await new Promise((r) => setTimeout(r, 50));
    const caught = got.length;
    got.length = 0;
    // Catch-up delivers only what came after the last handled item.
    assert.equal(await b.pubsub.catchUp(node), 1 - caught);
  });
});

describe('reliable messages survive restarts on both sides', () => {
  test('stored offline, delivered once, de-duplicated after a receiver restart', async () => {
    const t = await startEjabberd();
    const dir = mkdtempSync(join(tmpdir(), 'cgt-rel-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const senderDb = () => openStore(join(dir, 'sender.db'), []);
    const receiverDb = () => openStore(join(dir, 'receiver.db'), []);

    const s1 = await makeAgent(t, 'sender', { db: senderDb(), resendMs: 200 });
    await s1.start();
    // The receiver is not online yet: ejabberd stores the message.
    const id = await s1.sendReliable(Work, `receiver@${t.host}`, { n: 1, note: 'first' });
    await s1.stop();

    const got: number[] = [];
    const r1 = await makeAgent(t, 'receiver', { db: receiverDb() });
    r1.onMessage(Work, (m) => {
      got.push(m.n);
    });
    await r1.start();
    // The sender comes back with its outbox and re-sends (a duplicate of a delivered message).
    const s2 = await makeAgent(t, 'sender', { db: senderDb(), resendMs: 200 });
    await s2.start();
    await s2.delivered(id);
    assert.equal(s2.outboxSize, 0);
    await r1.stop();

    // The receiver restarts; a re-send of the same id has no second effect.
    const r2 = await makeAgent(t, 'receiver', { db: receiverDb() });
    r2.onMessage(Work, (m) => {
      got.push(m.n);
    });
    await r2.start();
    await s2.sendReliable(Work, `receiver@${t.host}`, { n: 1, note: 'first' }, id);
    await s2.delivered(id);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(got, [1]);
    await Promise.all([s2.stop(), r2.stop()]);
  });

  test('a reliable message refused for its sender is receipted and answered, but its id is not kept', async () => {
    const t = await startEjabberd();
    const db = openStore(':memory:', []);
    const got: string[] = [];
    const r = await makeAgent(t, 'guarded', { db, trusted: (bare) => bare === `friend@${t.host}` });
    r.onMessage(Work, (m, ctx) => {
      got.push(`${ctx.bare.split('@')[0]} ${m.n}`);
    });
    const friend = await makeAgent(t, 'friend', { resendMs: 200 });
    const stranger = await makeAgent(t, 'stranger', { resendMs: 200 });
    await Promise.all([r.start(), friend.start(), stranger.start()]);
    after(() => Promise.all([r.stop(), friend.stop(), stranger.stop()]));
    const errors: Array<{ id: string; condition: string }> = [];
    stranger.conn.on('stanza', (el: Element) => {
      if (el.is('message') && el.attrs.type === 'error')
        errors.push({ id: el.attrs.id, condition: el.getChild('error')!.getChildElements()[0]!.name });
    });

    const kept = () => db.prepare('SELECT count(*) FROM cg_seen_messages').pluck().get() as number;
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) {
      ids.push(await stranger.sendReliable(Work, r.bare, { n }));
      await stranger.delivered(ids[n]!);
    }
    await friend.delivered(await friend.sendReliable(Work, r.bare, { n: 99 }));
    assert.deepEqual(got, ['friend 99']);
    // A copy re-sent before the receipt came back is refused again: nothing was kept to match it.
    assert.deepEqual([...new Set(errors.map((e) => e.id))].sort(), [...ids].sort(), 'each refusal answered');
    assert.ok(
      errors.every((e) => e.condition === 'not-authorized'),
      JSON.stringify(errors),
    );
    assert.equal(stranger.outboxSize, 0, 'receipted: the sender stops re-sending');
    assert.equal(kept(), 1, 'only the applied message is remembered');
  });

  test('stop fails pending requests with a clear error', async () => {
    const t = await startEjabberd();
    const a = await makeAgent(t, 'x1');
    const b = await makeAgent(t, 'x2');
    b.handle(Slow, () => new Promise(() => {}));
    await Promise.all([a.start(), b.start()]);
    const p = a.request(Slow, b.jid, {});
    await new Promise((r) => setTimeout(r, 50));
    const rejected = assert.rejects(
      p,
      (e: any) => e instanceof StoppedError && /stopped before the request completed/.test(e.message),
    );
    await a.stop();
    await rejected;
    await b.stop();
  });
});
