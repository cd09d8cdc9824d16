/**
 * Golden round trips for every payload of every namespace (StanzaJS test/protocol-cases
 * style): test/protocol-cases/<namespace>/<case>.xml beside <case>.json. decode(xml) must
 * deep-equal the JSON, and encode(JSON) must be the same XML tree (compared as parsed
 * elements, so attribute order and indentation do not matter). A request or response
 * case is the whole IQ, so its type (get, set, result) is pinned too.
 * <namespace>/invalid/<case>.xml must be refused with the stanza error in <case>.json,
 * whose message names the bad field by path.
 *
 * Every payload a protocols/ module defines must have a case, and every namespace module
 * protocols/index.ts exports must have a folder: renaming an element, an attribute or a
 * namespace, or adding a payload without a case, fails here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Element, parse, equal } from 'ltx';
import * as protocols from '../../protocols/index.js';
import {
  StanzaError,
  type PayloadDef,
  type Condition,
  type AppCondition,
  type ErrorType,
} from '../../protocols/index.js';
import * as testCases from './cases.js';

const { cloud, gateway, instance, flow, chat, presence } = protocols;

// The golden files stay in the source tree; this file runs from dist/test/protocols/.
const dir = fileURLToPath(new URL('../../../test/protocol-cases/', import.meta.url));

type IqType = 'get' | 'set' | 'result';
interface Entry {
  payload: PayloadDef<any>;
  iq?: IqType;
  what: string;
}

const keyOf = (ns: string | undefined, name: string) => `${ns ?? 'jabber:client'} ${name}`;
const entryKey = (e: Entry) => `${e.iq ? `iq ${e.iq} ` : ''}${keyOf(e.payload.ns, e.payload.name)}`;

/** Every payload a protocol module defines, found from its exports. */
function entriesOf(mod: Record<string, unknown>): Entry[] {
  const out: Entry[] = [];
  for (const [name, v] of Object.entries(mod)) {
    const d = v as {
      kind?: string;
      iqType?: 'get' | 'set';
      request?: PayloadDef<any>;
      response?: PayloadDef<any>;
      payload?: PayloadDef<any>;
    };
    if (!d || typeof d !== 'object') continue;
    if (d.kind === 'request') {
      out.push(
        { payload: d.request!, iq: d.iqType, what: `${name}.request` },
        { payload: d.response!, iq: 'result', what: `${name}.response` },
      );
    } else if (d.kind === 'message' || d.kind === 'event' || d.kind === 'presence') {
      out.push({ payload: d.payload!, what: name });
    }
  }
  return out;
}

/** A stanza error as JSON, through the StanzaError wire pair. */
const stanzaError: PayloadDef<{ type: ErrorType; condition: Condition; text: string; app?: AppCondition }> = {
  ns: 'jabber:client',
  name: 'error',
  encode: ({ type, condition, text, app }) => new StanzaError(condition, text, app, type).toElement(),
  decode: (el) => {
    const e = StanzaError.fromElement(el);
    return { type: e.type, condition: e.condition, text: e.message, ...(e.app ? { app: e.app } : {}) };
  },
};

/** The payloads of each namespace folder. */
const registry: Record<string, Entry[]> = {
  cloud: entriesOf(cloud),
  gateway: entriesOf(gateway),
  instance: entriesOf(instance),
  flow: entriesOf(flow),
  chat: [{ payload: chat.ChatMessage, what: 'ChatMessage' }],
  presence: [
    { payload: presence.agentPresence([cloud.CloudPresence, instance.InstancePresence]), what: 'agentPresence' },
  ],
  error: [{ payload: stanzaError, what: 'StanzaError' }],
  test: entriesOf(testCases),
};

function cases(sub: string): string[] {
  if (!existsSync(dir + sub)) return [];
  const files = readdirSync(dir + sub);
  const xml = files
    .filter((f) => f.endsWith('.xml'))
    .map((f) => f.slice(0, -4))
    .sort();
  const json = files
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
  assert.deepEqual(xml, json, `every ${sub} .xml has a .json and the other way round`);
  return xml;
}

/** Indentation between elements is not content: drop whitespace-only text beside elements. */
function normalize(el: Element): Element {
  const hasElements = el.children.some((c) => typeof c !== 'string');
  el.children = el.children.filter((c) => typeof c !== 'string' || !hasElements || c.trim() !== '');
  for (const c of el.children) if (typeof c !== 'string') normalize(c);
  return el;
}

const load = (name: string) => normalize(parse(readFileSync(`${dir}${name}.xml`, 'utf8')) as Element);
const loadJson = (name: string) => JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8'));

/** The payload element of a case (inside its IQ, if it is one) and the definitions that read it. */
function resolve(ns: string, root: Element, invalid = false): { el: Element; iq?: IqType; entries: Entry[] } {
  let el = root;
  let iq: IqType | undefined;
  if (root.name === 'iq') {
    iq = root.attrs.type as IqType;
    const kids = root.getChildElements();
    assert.equal(kids.length, 1, `an IQ case carries exactly one payload (got ${kids.length})`);
    el = kids[0];
  }
  const key = keyOf(el.attrs.xmlns, el.name);
  let entries = registry[ns].filter((e) => keyOf(e.payload.ns, e.payload.name) === key && (invalid || e.iq === iq));
  // An invalid case may be a payload in the wrong namespace: the decoders of that name refuse it.
  if (invalid && !entries.length) entries = registry[ns].filter((e) => e.payload.name === el.name);
  assert.ok(
    entries.length,
    `no payload of ${ns} is ${iq ? `<iq type='${iq}'> with ` : ''}<${el.name} xmlns='${el.attrs.xmlns ?? ''}'/>`,
  );
  return { el, iq, entries };
}

const wrap = (iq: IqType | undefined, payload: Element) => {
  if (!iq) return payload;
  const q = new Element('iq', { type: iq });
  q.cnode(payload);
  return q;
};

/** Decoders build records on null-prototype objects; compare values, not prototypes. */
const plain = (v: unknown) => structuredClone(v);

test('every namespace module of protocols/ has a golden folder', () => {
  const modules = Object.entries(protocols).filter(
    ([, v]) =>
      v &&
      typeof v === 'object' &&
      Object.values(v).some((d) => typeof d === 'object' && d && 'kind' in d && 'key' in d),
  );
  assert.ok(modules.length >= 4);
  for (const [name] of modules)
    assert.ok(registry[name], `protocols/index.ts exports ${name}, which has no folder in test/protocol-cases`);
});

for (const ns of Object.keys(registry)) {
  describe(`golden cases: ${ns}`, () => {
    const names = cases(ns);

    test('every payload has a golden case', () => {
      const covered = new Set<string>();
      for (const name of names) {
        const { iq, entries } = resolve(ns, load(`${ns}/${name}`));
        for (const e of entries) if (e.iq === iq) covered.add(entryKey(e));
      }
      const missing = registry[ns].filter((e) => !covered.has(entryKey(e))).map((e) => `${e.what} (${entryKey(e)})`);
      assert.deepEqual(missing, [], `payloads of ${ns} without a case in test/protocol-cases/${ns}/`);
    });

    for (const name of names) {
      const file = `${ns}/${name}`;
      test(`${name}: decode(xml) equals the JSON`, () => {
        const { el, entries } = resolve(ns, load(file));
        for (const e of entries) assert.deepStrictEqual(plain(e.payload.decode(el)), loadJson(file), e.what);
      });

      test(`${name}: encode(JSON) is the XML`, () => {
        const expected = load(file);
        const { iq, entries } = resolve(ns, expected);
        for (const e of entries) {
          // Through text and back, as it travels: escaping must survive the wire.
          const wire = parse(wrap(iq, e.payload.encode(loadJson(file))).toString()) as Element;
          if (!equal(wire, expected))
            assert.equal(wire.toString(), expected.toString(), `${file}: ${e.what} encodes differently`);
        }
      });

      test(`${name}: decode(encode(JSON)) is the JSON`, () => {
        const value = loadJson(file);
        for (const e of resolve(ns, load(file)).entries) {
          assert.deepStrictEqual(
            plain(e.payload.decode(parse(e.payload.encode(value).toString()) as Element)),
            value,
            e.what,
          );
        }
      });
    }

    for (const name of cases(`${ns}/invalid`)) {
      test(`invalid/${name} is refused, naming the problem`, () => {
        const file = `${ns}/invalid/${name}`;
        const want = loadJson(file) as { condition: string; app: string; message: string };
        const { el, entries } = resolve(ns, load(file), true);
        for (const e of entries) {
          assert.throws(
            () => e.payload.decode(el),
            (err: unknown) => {
              assert.ok(err instanceof StanzaError, `expected a StanzaError, got ${String(err)}`);
              assert.equal(err.condition, want.condition);
              assert.equal(err.app, want.app);
              assert.equal(err.message, want.message);
              // What the peer receives: the same condition and text on the wire.
              const back = StanzaError.fromElement(parse(err.toElement().toString()) as Element);
              assert.deepEqual([back.condition, back.app, back.message], [want.condition, want.app, want.message]);
              return true;
            },
          );
        }
      });
    }
  });
}
