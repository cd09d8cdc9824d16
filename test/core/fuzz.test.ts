/**
 * Hostile input through a real ejabberd: thousands of generated bad requests and
 * messages (wrong types, missing fields, unknown elements and namespaces, strings over
 * their limits, deeply nested junk, zero or two payloads, wrong IQ types, an untrusted
 * sender). Each is answered with the right stanza error, each kind of problem is logged
 * about once, and the agent keeps serving valid requests during and after the flood.
 * Stanzas that ejabberd itself refuses (over max_stanza_size, not well-formed) cost the
 * offending stream, never the target.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { capturingLogger } from '../helpers/log.js';
import { prng, type Rng } from '../fuzz/rng.js';
import { nested } from '../fuzz/mutate.js';
import type { Agent, AgentEvent } from '../../core/index.js';
import {
  defineRequest,
  defineMessage,
  object,
  str,
  int,
  text,
  list,
  oneOf,
  bool,
  optional,
  StanzaError,
  NS_STANZAS,
  NS_ERROR,
  type Condition,
} from '../../protocols/index.js';

const NS = 'urn:cloudgate:fuzz:1';
const Add = defineRequest(NS, 'add', {
  request: object({ a: int({ min: -1e6, max: 1e6 }), b: int({ min: -1e6, max: 1e6 }) }),
  response: object({ sum: int() }),
  iqType: 'get',
  timeoutMs: 10000,
});
const Put = defineRequest(NS, 'put', {
  request: object({
    key: str({ max: 64, pattern: /^[a-z0-9-]+$/ }),
    mode: oneOf(['create', 'replace'] as const),
    value: text({ max: 1024 }),
    tags: optional(list(str({ max: 16 }), { max: 8 })),
  }),
  response: object({ ok: bool() }),
  timeoutMs: 10000,
});
const Note = defineMessage(NS, 'note', object({ n: int({ min: 0 }), body: text({ max: 256 }) }));

const SEED = 0xc10d6a7e;
const CASES = 3200;

interface Case {
  kind: string;
  /** The IQ type to send ('' leaves the attribute out). */
  type: string;
  children: Element[];
  untrusted: boolean;
  expect: Condition;
  /** Who answers: our agent, or ejabberd itself (it validates the IQ type). */
  by: 'agent' | 'server';
}

const BAD_INTS = [
  'x',
  '1.5',
  '',
  ' 1',
  '0x10',
  '1e3',
  'NaN',
  '-',
  '١٢',
  '9'.repeat(20),
  '2000000',
  '-2000000',
  '+5',
  '1 2',
];
const junkName = (r: Rng) => r.pick(['x', 'junk', 'add', 'put', 'value', 'item', 'a-b', 'z9']);

function validAdd(r: Rng): Element {
  return new Element('add', { xmlns: NS, a: String(r.int(-1000, 1000)), b: String(r.int(-1000, 1000)) });
}

function validPut(r: Rng): Element {
  const el = new Element('put', { xmlns: NS, key: `k-${r.int(0, 9999)}`, mode: r.pick(['create', 'replace']) });
  el.c('value').t('v'.repeat(r.int(0, 100)));
  if (r.chance(0.5)) {
    const t = el.c('tags');
    for (let i = r.int(0, 8); i > 0; i--) t.c('item').t(`t${i}`);
  }
  return el;
}

/** Adds unknown children and attributes, which a decoder ignores (forward compatibility). */
function withExtras(r: Rng, el: Element): Element {
  for (let i = r.int(1, 4); i > 0; i--)
    el.c(junkName(r), r.chance(0.5) ? { xmlns: `urn:extra:${r.int(0, 9)}` } : {}).t('extra');
  el.attrs[`extra${r.int(0, 9)}`] = 'yes';
  return el;
}

/** One defect that makes a payload of ours invalid (bad-request, naming the field). */
function defective(r: Rng): { el: Element; kind: string } {
  const add = r.chance(0.5);
  const el = add ? validAdd(r) : validPut(r);
  const kind = r.pick(['wrong-type', 'missing-field', 'huge-string', 'extra-elements', 'deep-nesting'] as const);
  const breakIt = (what: string) => {
    if (add) {
      const f = r.pick(['a', 'b']);
      if (what === 'missing') delete el.attrs[f];
      else el.attrs[f] = r.pick(BAD_INTS);
    } else if (what === 'missing') {
      const f = r.pick(['key', 'mode', 'value']);
      if (f === 'value') el.children = el.children.filter((c) => typeof c === 'string' || c.name !== 'value');
      else delete el.attrs[f];
    } else {
      const f = r.pick(['key', 'mode', 'tags']);
      if (f === 'key') el.attrs.key = r.pick(['UPPER', 'has space', 'a/b', '', 'é']);
      else if (f === 'mode') el.attrs.mode = r.pick(['delete', 'CREATE', '', 'create ']);
      else {
        const t = el.getChild('tags') ?? el.c('tags');
        t.c('item').t('x'.repeat(17));
      }
    }
  };
  switch (kind) {
    case 'wrong-type':
      breakIt('type');
      break;
    case 'missing-field':
      breakIt('missing');
      break;
    case 'huge-string': {
      // Most just over the limit, a few far over (all under ejabberd's 1 MiB).
      const n = r.chance(0.9) ? r.int(1025, 4000) : r.int(100_000, 400_000);
      if (add) el.attrs.a = '1'.repeat(n);
      else if (r.chance(0.4)) el.attrs.key = 'k'.repeat(Math.min(n, 200_000));
      else if (r.chance(0.5)) {
        el.children = el.children.filter((c) => typeof c === 'string' || c.name !== 'value');
        el.c('value').t('v'.repeat(n));
      } else {
        el.children = el.children.filter((c) => typeof c === 'string' || c.name !== 'tags');
        const t = el.c('tags');
        for (let i = Math.min(9 + (n % 2000), 2000); i > 0; i--) t.c('item').t('t');
      }
      break;
    }
    case 'extra-elements':
      withExtras(r, el);
      breakIt(r.chance(0.5) ? 'missing' : 'type');
      break;
    case 'deep-nesting':
      el.cnode(nested(r.int(20, 1500)));
      breakIt(r.chance(0.5) ? 'missing' : 'type');
      break;
  }
  return { el, kind };
}

function generate(r: Rng, n: number): Case[] {
  const out: Case[] = [];
  while (out.length < n) {
    const roll = r.next();
    let c: Case;
    if (roll < 0.5) {
      const d = defective(r);
      c = {
        kind: d.kind,
        type: d.el.name === 'add' ? 'get' : 'set',
        children: [d.el],
        untrusted: false,
        expect: 'bad-request',
        by: 'agent',
      };
    } else if (roll < 0.62) {
      const which = r.pick(['ns', 'name', 'deep', 'no-ns'] as const);
      const el =
        which === 'ns'
          ? withExtras(
              r,
              new Element(r.pick(['add', 'put', 'ping', 'query']), { xmlns: `urn:fuzz:unknown:${r.int(0, 1e6)}` }),
            )
          : which === 'name'
            ? new Element(r.pick(['subtract', 'Add', 'put-all']), { xmlns: NS, a: '1', b: '2' })
            : which === 'deep'
              ? nested(r.int(50, 1500), `urn:fuzz:deep:${r.int(0, 99)}`)
              : new Element('add', { a: '1', b: '2' }); // no namespace of its own: jabber:client's
      c = {
        kind: 'unknown-namespace',
        type: r.pick(['get', 'set']),
        children: [el],
        untrusted: false,
        expect: 'service-unavailable',
        by: 'agent',
      };
    } else if (roll < 0.72) {
      const two = r.chance(0.5);
      c = {
        kind: 'payload-count',
        type: 'get',
        children: two ? [validAdd(r), r.chance(0.5) ? validAdd(r) : nested(3)] : [],
        untrusted: false,
        expect: 'bad-request',
        by: 'agent',
      };
    } else if (roll < 0.8) {
      const add = r.chance(0.5);
      c = {
        kind: 'wrong-iq-type',
        type: add ? 'set' : 'get',
        children: [add ? validAdd(r) : validPut(r)],
        untrusted: false,
        expect: 'bad-request',
        by: 'agent',
      };
    } else if (roll < 0.82) {
      // ejabberd checks the IQ type before routing and answers for the target.
      c = {
        kind: 'invalid-iq-type',
        type: r.pick(['bogus', '', 'GET', 'result ']),
        children: [validAdd(r)],
        untrusted: false,
        expect: 'bad-request',
        by: 'server',
      };
    } else {
      // An untrusted sender learns nothing: valid or not, known or not, not-authorized.
      const sub = r.next();
      const children =
        sub < 0.3
          ? [validAdd(r)]
          : sub < 0.6
            ? [defective(r).el]
            : sub < 0.8
              ? [new Element('add', { xmlns: `urn:fuzz:unknown:${r.int(0, 99)}` })]
              : sub < 0.9
                ? []
                : [validPut(r)];
      const type = children[0]?.name === 'put' ? 'set' : 'get';
      c = { kind: 'untrusted', type, children, untrusted: true, expect: 'not-authorized', by: 'agent' };
    }
    out.push(c);
  }
  return out;
}

function conditionOf(reply: Element): Condition | undefined {
  const err = reply.getChild('error');
  return err?.getChildElements().find((e) => e.attrs.xmlns === NS_STANZAS && e.name !== 'text')?.name as
    | Condition
    | undefined;
}

/** Sends raw stanzas on an agent's connection and collects the replies by id. */
function replies(agent: Agent, name: 'iq' | 'message') {
  const got = new Map<string, Element>();
  const waiting = new Map<string, (el: Element) => void>();
  agent.conn.on('stanza', (el: Element) => {
    if (el.name !== name || !el.attrs.id) return;
    if (name === 'iq' && el.attrs.type !== 'result' && el.attrs.type !== 'error') return;
    if (name === 'message' && el.attrs.type !== 'error') return;
    got.set(el.attrs.id, el);
    waiting.get(el.attrs.id)?.(el);
  });
  return {
    got,
    wait(id: string, ms: number): Promise<Element | undefined> {
      const have = got.get(id);
      if (have) return Promise.resolve(have);
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          waiting.delete(id);
          resolve(undefined);
        }, ms);
        waiting.set(id, (el) => {
          clearTimeout(t);
          waiting.delete(id);
          resolve(el);
        });
      });
    },
  };
}

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}
const parseLines = (lines: string[]) => lines.map((l) => JSON.parse(l) as LogLine);

describe('hostile input', () => {
  let t: TestServer;
  let target: Agent;
  let sender: Agent;
  let stranger: Agent;
  let logLines: string[];
  const notes: number[] = [];

  before(async () => {
    t = await startEjabberd({}, { cleanup: false });
    const cap = capturingLogger();
    logLines = cap.lines;
    target = await makeAgent(t, 'target', {
      log: cap.log,
      trusted: (bare) => bare !== `stranger@${t.host}` && bare.endsWith(`@${t.host}`),
    });
    target.handle(Add, ({ a, b }) => ({ sum: a + b }));
    target.handle(Put, () => ({ ok: true }));
    target.onMessage(Note, (m) => {
      notes.push(m.n);
    });
    sender = await makeAgent(t, 'sender');
    stranger = await makeAgent(t, 'stranger');
    await Promise.all([target.start(), sender.start(), stranger.start()]);
  });
  after(async () => {
    await Promise.all([target?.stop(), sender?.stop(), stranger?.stop()]);
    await t?.stop();
  });

  test(`${CASES} generated bad requests: each gets the right stanza error, logged about once per kind`, {
    timeout: 180_000,
  }, async (tc) => {
    const r = prng(SEED);
    const cases = generate(r, CASES);
    const fromSender = replies(sender, 'iq');
    const fromStranger = replies(stranger, 'iq');
    const offline: string[] = [];
    for (const a of [target, sender, stranger])
      a.on('status', (e: AgentEvent) => {
        if (e.type === 'offline') offline.push(a.bare);
      });
    const mismatches: string[] = [];
    const valid: Array<Promise<string | null>> = [];
    const kinds = new Map<string, number>();
    const batch = 100;
    for (let i = 0; i < cases.length; i += batch) {
      // A valid request between batches: the flood must not starve real work.
      const x = r.int(-500, 500);
      valid.push(
        sender.request(Add, target.jid, { a: x, b: 7 }).then(
          (res) => (res.sum === x + 7 ? null : `sum ${res.sum}`),
          (e) => String(e),
        ),
      );
      await Promise.all(
        cases.slice(i, i + batch).map(async (c, j) => {
          const id = `fz-${i + j}`;
          kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
          const from = c.untrusted ? stranger : sender;
          const iq = new Element('iq', { to: target.jid, id, ...(c.type ? { type: c.type } : {}) });
          for (const ch of c.children) iq.cnode(ch);
          await from.conn.send(iq);
          const reply = await (c.untrusted ? fromStranger : fromSender).wait(id, 15_000);
          const got = !reply
            ? 'no reply'
            : reply.attrs.type !== 'error'
              ? `type=${reply.attrs.type}`
              : conditionOf(reply);
          if (got !== c.expect)
            mismatches.push(
              `${id} ${c.kind} (${c.by}, iq ${c.type || 'without type'}): expected ${c.expect}, got ${got}`,
            );
        }),
      );
    }
    assert.deepEqual(
      (await Promise.all(valid)).filter((v) => v !== null),
      [],
      'valid requests during the flood',
    );
    assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} of ${cases.length} answered wrongly`);
    assert.ok(
      kinds.size >= 9 && [...kinds.values()].every((n) => n >= 30),
      `every kind is exercised: ${JSON.stringify([...kinds])}`,
    );
    assert.deepEqual(offline, [], 'nobody lost its connection');

    // Still serving, with the typed API, after the flood.
    assert.deepEqual(await sender.request(Add, target.jid, { a: 40, b: 2 }), { sum: 42 });
    assert.deepEqual(await sender.request(Put, target.jid, { key: 'k', mode: 'create', value: 'v' }), { ok: true });
    // Unknown elements and attributes alone are not an error: a newer peer may add them.
    const extended = withExtras(r, new Element('add', { xmlns: NS, a: '20', b: '3' }));
    assert.equal((await sender.iq(target.jid, 'get', extended))?.attrs.sum, '23');
    // And the errors carry what a program needs, by path.
    await assert.rejects(
      sender.iq(target.jid, 'get', new Element('add', { xmlns: NS, a: 'x', b: '1' })),
      (e: unknown) =>
        e instanceof StanzaError &&
        e.condition === 'bad-request' &&
        e.app === 'invalid-field' &&
        e.message === "invalid add/@a: expected an integer, got 'x'",
    );

    const lines = parseLines(logLines);
    const warns = lines.filter((l) => l.level === 40);
    assert.deepEqual(
      lines.filter((l) => l.level >= 50).map((l) => l.msg),
      [],
      'hostile input is not an internal error',
    );
    // One line per sender and kind of problem (plus a count every 1000 occurrences).
    const key = (l: LogLine) => `${String(l.from).split('/')[0]} ${l.condition} ${l.app}`;
    const refused = warns.filter((l) => l.msg === 'request refused');
    const perKey = new Map<string, number>();
    for (const l of refused) perKey.set(key(l), (perKey.get(key(l)) ?? 0) + 1);
    const s = sender.bare;
    const u = stranger.bare;
    for (const k of [
      `${s} bad-request invalid-field`,
      `${s} bad-request unknown-payload`,
      `${s} bad-request wrong-iq-type`,
      `${s} service-unavailable unknown-payload`,
      `${u} not-authorized unauthorized-sender`,
    ]) {
      assert.ok((perKey.get(k) ?? 0) >= 1, `"${k}" is logged: ${JSON.stringify([...perKey])}`);
    }
    for (const [k, n] of perKey) assert.ok(n <= 3, `"${k}" logged ${n} times`);
    assert.ok(warns.length <= 20, `${warns.length} warning lines for ${cases.length} bad requests`);
    tc.diagnostic(
      `${cases.length} bad requests (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}): ${warns.length} warning lines`,
    );
  });

  test('a burst of bad messages: each answered with the right error, the agent keeps serving', {
    timeout: 120_000,
  }, async (tc) => {
    const r = prng(SEED + 1);
    const fromSender = replies(sender, 'message');
    const fromStranger = replies(stranger, 'message');
    const warnsBefore = parseLines(logLines).filter((l) => l.level === 40).length;
    const expected: Array<{ id: string; who: Agent; expect: Condition | null }> = [];
    let goodNotes = 0;
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 1500; i++) {
      const untrusted = r.chance(0.2);
      const who = untrusted ? stranger : sender;
      const id = `mz-${i}`;
      const m = new Element('message', { to: target.jid, type: 'normal', id });
      const roll = r.next();
      let expect: Condition | null;
      if (roll < 0.3) {
        m.cnode(withExtras(r, new Element(junkName(r), { xmlns: `urn:fuzz:msg:${r.int(0, 1e6)}` })));
        expect = untrusted ? 'not-authorized' : 'service-unavailable';
      } else if (roll < 0.6) {
        const note = m.c('note', { xmlns: NS, n: r.pick(['-1', 'x', '', '1.5']) });
        if (r.chance(0.5)) note.c('body').t(r.chance(0.5) ? 'b'.repeat(r.int(257, 50_000)) : 'ok');
        expect = untrusted ? 'not-authorized' : 'bad-request';
      } else if (roll < 0.75) {
        const note = m.c('note', { xmlns: NS, n: String(i) });
        note.c('body').t('fine');
        expect = untrusted ? 'not-authorized' : null;
        if (!untrusted) goodNotes++;
      } else if (roll < 0.85) {
        m.c('body').t('just text, no payload'); // a person's stray message: ignored
        expect = null;
      } else if (roll < 0.95) {
        // A forged bounce: logged once, never answered (RFC 6120 §8.3.1: no error for an error).
        m.attrs.type = 'error';
        m.c('error', { type: 'cancel' }).c(r.pick(['service-unavailable', 'bogus']), { xmlns: NS_STANZAS });
        expect = null;
      } else {
        m.attrs.type = 'headline';
        m.cnode(nested(r.int(10, 500), `urn:fuzz:headline:${r.int(0, 9)}`));
        expect = null;
      }
      expected.push({ id, who, expect });
      sends.push(who.conn.send(m));
    }
    await Promise.all(sends);
    // Valid work is served while the burst is handled.
    assert.deepEqual(await sender.request(Add, target.jid, { a: 1, b: 2 }), { sum: 3 });
    const mismatches: string[] = [];
    await Promise.all(
      expected.map(async (e) => {
        const col = e.who === stranger ? fromStranger : fromSender;
        const reply = e.expect ? await col.wait(e.id, 15_000) : undefined;
        const got = reply ? (conditionOf(reply) ?? 'error without condition') : null;
        if (got !== e.expect) mismatches.push(`${e.id}: expected ${e.expect}, got ${got}`);
        if (reply && e.expect !== 'service-unavailable') {
          const app = reply
            .getChild('error')
            ?.getChildElements()
            .find((c) => c.attrs.xmlns === NS_ERROR)?.name;
          if (app !== (e.expect === 'not-authorized' ? 'unauthorized-sender' : 'invalid-field'))
            mismatches.push(`${e.id}: application condition ${app}`);
        }
      }),
    );
    // Those that expect no answer had the same time to get a wrong one.
    for (const e of expected) {
      if (e.expect) continue;
      const col = e.who === stranger ? fromStranger : fromSender;
      if (col.got.has(e.id)) mismatches.push(`${e.id}: answered ${conditionOf(col.got.get(e.id)!)} but should not be`);
    }
    assert.deepEqual(
      mismatches.slice(0, 20),
      [],
      `${mismatches.length} of ${expected.length} messages answered wrongly`,
    );
    assert.equal(
      notes.length,
      goodNotes,
      'every valid note from the trusted sender was handled, none from the stranger',
    );
    assert.deepEqual(await sender.request(Add, target.jid, { a: 2, b: 2 }), { sum: 4 });
    const lines = parseLines(logLines).slice(0);
    const newWarns = lines.filter((l) => l.level === 40).length - warnsBefore;
    assert.ok(newWarns <= 12, `${newWarns} warning lines for ${expected.length} messages`);
    tc.diagnostic(
      `${expected.length} messages, ${expected.filter((e) => e.expect).length} answered with errors: ${newWarns} warning lines`,
    );
    assert.deepEqual(
      lines.filter((l) => l.level >= 50).map((l) => l.msg),
      [],
    );
  });

  test('a stanza over max_stanza_size is refused before sending; ejabberd would cut the stream', {
    timeout: 60_000,
  }, async () => {
    const big = 'x'.repeat(1_200_000);
    // Through the agent: refused at once with a clear error, and the session is untouched.
    const offline: string[] = [];
    sender.on('status', (e: AgentEvent) => {
      if (e.type === 'offline') offline.push('sender');
    });
    const t0 = Date.now();
    await assert.rejects(
      sender.request(Put, target.jid, { key: 'big', mode: 'create', value: big }),
      (e: any) =>
        e.code === 'CG_STANZA_TOO_LARGE' &&
        e.limit === 1024 * 1024 &&
        e.bytes > 1_200_000 &&
        /max_stanza_size/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 1000, 'refused at once, not after a timeout');
    await assert.rejects(
      sender.send(Note, target.jid, { n: 1, body: big }),
      (e: any) => e.code === 'CG_STANZA_TOO_LARGE',
    );
    await assert.rejects(
      sender.sendReliable(Note, target.jid, { n: 1, body: big }),
      (e: any) => e.code === 'CG_STANZA_TOO_LARGE',
    );
    assert.equal(sender.outboxSize, 0, 'nothing stored to be re-sent forever');
    assert.deepEqual(await sender.request(Add, target.jid, { a: 5, b: 5 }), { sum: 10 });
    assert.deepEqual(offline, []);

    // What ejabberd itself does with one (a client without the check): it answers
    // <stream:error><policy-violation/><text>XML stanza is too big</text></stream:error>,
    // closes the stream and drops the session, so it cannot be resumed ("Previous session
    // not found"): the sender reconnects with a new session and loses whatever was not
    // yet acknowledged. The target never sees the stanza and is not disturbed.
    const notesBefore = notes.length;
    const rogue = await makeAgent(t, 'rogue');
    await rogue.start();
    try {
      const entity = (rogue.conn as any).entity; // below the agent: the raw xmpp.js entity
      const streamError = new Promise<Element>((resolve) =>
        entity.on('element', (el: Element) => {
          if (el.name === 'stream:error') resolve(el);
        }),
      );
      const status: string[] = [];
      const back = new Promise<void>((resolve) =>
        rogue.on('status', (e: AgentEvent) => {
          status.push(e.type === 'online' ? `online${e.resumed ? ' resumed' : ''}` : 'offline');
          if (e.type === 'online') resolve();
        }),
      );
      const m = new Element('message', { to: target.jid, type: 'normal', id: 'too-big' });
      m.c('note', { xmlns: NS, n: '1' }).c('body').t(big);
      await entity.write(m.toString());
      const err = await streamError;
      assert.ok(err.getChild('policy-violation', 'urn:ietf:params:xml:ns:xmpp-streams'), err.toString());
      assert.equal(err.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-streams'), 'XML stanza is too big');
      await back;
      assert.deepEqual(status, ['offline', 'online'], 'a new session, not a resumed one');
      assert.deepEqual(await rogue.request(Add, target.jid, { a: 1, b: 1 }), { sum: 2 });

      // Not well-formed XML is refused by ejabberd the same way: it never reaches a peer.
      const notWellFormed = new Promise<Element>((resolve) =>
        entity.on('element', (el: Element) => {
          if (el.name === 'stream:error') resolve(el);
        }),
      );
      await entity.write(
        `<message to='${target.jid}' type='normal'><note xmlns='${NS}' n='1'><body>x</note></message>`,
      );
      const err2 = await notWellFormed;
      assert.ok(
        err2
          .getChildElements()
          .some((c) => c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-streams' && c.name !== 'text'),
        err2.toString(),
      );
    } finally {
      await rogue.stop();
    }
    assert.equal(notes.length, notesBefore, 'neither stanza reached the target');
    assert.deepEqual(await sender.request(Add, target.jid, { a: 20, b: 22 }), { sum: 42 });
    assert.ok(target.isOnline);
  });
});
