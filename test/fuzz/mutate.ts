/**
 * Hostile payloads made from valid ones. A valid request is encoded with its own
 * definition, then broken (a field missing, of the wrong type, far too long, a list far
 * too long, junk children beside it) until the shared decoder refuses it: every payload
 * called malformed here is one the receiving agent must refuse too, never one that slips
 * through as a valid request.
 */
import { Element, parse } from 'ltx';
import type { PayloadDef } from '../../protocols/index.js';
import type { Rng } from './rng.js';

const GARBAGE = [
  'x',
  '',
  ' ',
  '-1',
  '1.5',
  'NaN',
  '0x10',
  '1e3',
  'true?',
  '9'.repeat(20),
  '<&>"\'',
  'é',
  '../../etc/passwd',
  'a b',
  'null',
  '{',
  '-',
  '+5',
  '١٢',
];

const copy = (el: Element): Element => parse(el.toString()) as Element;
const elements = (el: Element): Element[] => el.children.filter((c): c is Element => typeof c !== 'string');

/** Mostly just over a typical limit, now and then far over (still under ejabberd's 1 MiB). */
export function hugeLength(r: Rng): number {
  return r.chance(0.85) ? r.int(4097, 20_000) : r.int(262_145, 320_000);
}

/** Children in foreign namespaces and attributes nobody asked for (decoders ignore them). */
export function addExtras(r: Rng, el: Element): Element {
  for (let i = r.int(1, 4); i > 0; i--)
    el.c(
      r.pick(['x', 'junk', 'item', 'entry', 'script']),
      r.chance(0.5) ? { xmlns: `urn:fuzz:extra:${r.int(0, 9)}` } : {},
    ).t('extra');
  el.attrs[`extra${r.int(0, 9)}`] = 'yes';
  return el;
}

export function nested(depth: number, ns?: string): Element {
  const root = new Element('junk', ns ? { xmlns: ns } : {});
  let cur = root;
  for (let i = 0; i < depth; i++) cur = cur.c(i % 2 ? 'x' : 'y', { d: String(i) });
  cur.t('bottom');
  return root;
}

/** One defect; returns its name. */
function breakOnce(r: Rng, el: Element): string {
  const attrs = Object.keys(el.attrs).filter((k) => k !== 'xmlns');
  const kids = elements(el);
  const choices = [
    ...(attrs.length ? ['missing-field', 'wrong-type', 'huge-value'] : []),
    ...(kids.length ? ['missing-child', 'huge-text', 'bad-items', 'too-many-items', 'wrong-child-type'] : []),
  ];
  if (choices.length === 0) return 'none';
  const how = r.pick(choices);
  switch (how) {
    case 'missing-field':
      delete el.attrs[r.pick(attrs)];
      break;
    case 'wrong-type':
      el.attrs[r.pick(attrs)] = r.pick(GARBAGE);
      break;
    case 'huge-value':
      el.attrs[r.pick(attrs)] = 'v'.repeat(hugeLength(r));
      break;
    case 'missing-child':
      el.children = el.children.filter((c) => c !== r.pick(kids));
      break;
    case 'huge-text': {
      const k = r.pick(kids);
      k.children = ['t'.repeat(hugeLength(r))];
      break;
    }
    case 'wrong-child-type': {
      const k = r.pick(kids);
      k.children = [r.pick(['{not json', '[1,', 'x', ''])];
      for (const a of Object.keys(k.attrs)) delete k.attrs[a];
      break;
    }
    case 'bad-items': {
      const k = r.pick(kids);
      for (const item of elements(k)) {
        if (r.chance(0.5)) item.children = [r.pick(GARBAGE)];
        if (item.attrs.k !== undefined && r.chance(0.5)) item.attrs.k = '';
      }
      k.c(r.pick(['item', 'entry', 'name', 'group', 'jid'])).t(r.pick(GARBAGE));
      break;
    }
    case 'too-many-items': {
      const k = r.pick(kids);
      const first = elements(k)[0];
      const name = first?.name ?? r.pick(['item', 'entry', 'name', 'group', 'jid']);
      for (let i = r.int(101, 1500); i > 0; i--)
        k.c(name, first?.attrs.k !== undefined ? { k: `k${i}` } : {}).t(first ? first.getText() || 'x' : 'x');
      break;
    }
  }
  return how;
}

function decodes(def: PayloadDef<unknown>, el: Element): boolean {
  try {
    def.decode(el);
    return true;
  } catch {
    return false;
  }
}

/**
 * `valid` encoded by `def`, then broken until `def` no longer decodes it; undefined when
 * the payload has nothing to break (an empty request).
 */
export function malformed(r: Rng, def: PayloadDef<any>, valid: unknown): { el: Element; how: string } | undefined {
  for (let attempt = 0; attempt < 40; attempt++) {
    const el = copy(def.encode(valid));
    const hows = [breakOnce(r, el)];
    if (hows[0] === 'none') return undefined;
    if (r.chance(0.3)) hows.push(breakOnce(r, el));
    if (r.chance(0.3)) {
      addExtras(r, el);
      hows.push('extra-children');
    }
    if (!decodes(def, el)) return { el, how: hows.join('+') };
  }
  return undefined;
}

/** A payload nobody serves: a foreign namespace, a known one at another version, an unknown element, deep junk. */
export function unknownPayload(r: Rng, ns: string, names: readonly string[]): Element {
  switch (r.int(0, 3)) {
    case 0:
      return addExtras(r, new Element(r.pick(names), { xmlns: `urn:fuzz:unknown:${r.int(0, 1e6)}` }));
    case 1:
      return new Element(r.pick(names), { xmlns: ns.replace(/:1$/, `:${r.int(2, 9)}`) });
    case 2:
      return new Element(r.pick(['delete-all', 'admin', 'exec', 'grant', 'Deploy', 'status-all']), { xmlns: ns });
    default:
      return nested(r.int(20, 400), `urn:fuzz:deep:${r.int(0, 99)}`);
  }
}
