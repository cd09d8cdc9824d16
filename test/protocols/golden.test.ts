/**
 * Golden round trips (StanzaJS test/protocol-cases style): each <case>.xml beside its
 * <case>.json. decode(xml) must deep-equal the JSON, and encode(JSON) must be the same
 * XML tree (compared as parsed elements, so attribute order and indentation do not
 * matter). invalid/<case>.xml must be refused with the stanza error in <case>.json,
 * whose message names the bad field by path.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Element, parse, equal } from 'ltx';
import { StanzaError } from '../../protocols/index.js';
import { payloads } from './cases.js';

// The golden files stay in the source tree; this file runs from dist/test/protocols/.
const dir = fileURLToPath(new URL('../../../test/protocol-cases/', import.meta.url));

function cases(sub = ''): string[] {
  const files = readdirSync(dir + sub);
  const xml = files.filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4)).sort();
  const json = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  assert.deepEqual(xml, json, `every ${sub || 'golden'} .xml has a .json and the other way round`);
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

function payloadFor(el: Element) {
  const p = payloads[el.name];
  assert.ok(p, `no payload of the test protocol is named <${el.name}/>`);
  return p;
}

/** Decoders build records on null-prototype objects; compare values, not prototypes. */
const plain = (v: unknown) => structuredClone(v);

describe('golden protocol cases', () => {
  const names = cases();
  test('there are golden cases', () => assert.ok(names.length >= 4, `only ${names.length} cases in ${dir}`));

  for (const name of names) {
    test(`${name}: decode(xml) equals the JSON`, () => {
      const el = load(name);
      assert.deepStrictEqual(plain(payloadFor(el).decode(el)), loadJson(name));
    });

    test(`${name}: encode(JSON) is the XML`, () => {
      const expected = load(name);
      const encoded = payloadFor(expected).encode(loadJson(name));
      // Through text and back, as it travels: escaping must survive the wire.
      const wire = parse(encoded.toString()) as Element;
      if (!equal(wire, expected)) assert.equal(wire.toString(), expected.toString(), `${name}: encoded XML differs`);
      assert.ok(equal(wire, expected));
    });

    test(`${name}: decode(encode(JSON)) is the JSON`, () => {
      const value = loadJson(name);
      const p = payloadFor(load(name));
      assert.deepStrictEqual(plain(p.decode(parse(p.encode(value).toString()) as Element)), value);
    });
  }
});

describe('invalid payloads name the bad field', () => {
  for (const name of cases('invalid/')) {
    test(name, () => {
      const el = load(`invalid/${name}`);
      const want = loadJson(`invalid/${name}`) as { condition: string; app: string; message: string };
      assert.throws(() => payloadFor(el).decode(el), (err: unknown) => {
        assert.ok(err instanceof StanzaError, `expected a StanzaError, got ${String(err)}`);
        assert.equal(err.condition, want.condition);
        assert.equal(err.app, want.app);
        assert.equal(err.message, want.message);
        // What the peer receives: the same condition and text on the wire.
        const back = StanzaError.fromElement(parse(err.toElement().toString()) as Element);
        assert.deepEqual([back.condition, back.app, back.message], [want.condition, want.app, want.message]);
        return true;
      });
    });
  }
});
