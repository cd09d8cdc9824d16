/**
 * Typed payload schemas: one description gives the TypeScript type, the XML encoding
 * (ltx) and a validating decoder whose errors name the bad field by path.
 *
 * Encoding: scalars are attributes; `text` strings, nested objects, lists and maps are
 * child elements (a list repeats its item element; a map is <entry k="…">value</entry>).
 */
import { Element } from 'ltx';

export class FieldError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'FieldError';
  }
}

export interface Codec<T> {
  readonly kind: 'scalar' | 'child';
  readonly optional: boolean;
  /** Scalars: to/from attribute strings. */
  toAttr?(v: T): string;
  fromAttr?(s: string, path: string): T;
  /** Children: append/read child element(s) named `name` under `parent`. */
  toChild?(parent: Element, name: string, v: T): void;
  fromChild?(parent: Element, name: string, path: string): T | undefined;
}

export type Infer<C> = C extends Codec<infer T> ? T : never;

interface StrOpts {
  max?: number;
  pattern?: RegExp;
  oneOf?: readonly string[];
}
const DEFAULT_MAX = 4096;

function scalar<T>(toAttr: (v: T) => string, fromAttr: (s: string, path: string) => T): Codec<T> {
  return { kind: 'scalar', optional: false, toAttr, fromAttr };
}

function checkStr(s: string, path: string, o: StrOpts, max: number): string {
  if (s.length > max) throw new FieldError(path, `longer than ${max} characters (${s.length})`);
  if (o.pattern && !o.pattern.test(s)) throw new FieldError(path, `'${s.slice(0, 64)}' does not match ${o.pattern}`);
  if (o.oneOf && !o.oneOf.includes(s))
    throw new FieldError(path, `'${s.slice(0, 64)}' is not one of ${o.oneOf.join(', ')}`);
  return s;
}

export const str = (o: StrOpts = {}): Codec<string> =>
  scalar(
    (v) => v,
    (s, p) => checkStr(s, p, o, o.max ?? DEFAULT_MAX),
  );

export function oneOf<const V extends string>(values: readonly V[]): Codec<V> {
  return scalar(
    (v) => v,
    (s, p) => checkStr(s, p, { oneOf: values }, 256) as V,
  );
}

export const int = (o: { min?: number; max?: number } = {}): Codec<number> =>
  scalar(
    (v) => String(v),
    (s, p) => {
      if (!/^-?\d{1,15}$/.test(s)) throw new FieldError(p, `expected an integer, got '${s.slice(0, 32)}'`);
      const n = Number(s);
      if (o.min !== undefined && n < o.min) throw new FieldError(p, `${n} is below the minimum ${o.min}`);
      if (o.max !== undefined && n > o.max) throw new FieldError(p, `${n} is above the maximum ${o.max}`);
      return n;
    },
  );

export const num = (): Codec<number> =>
  scalar(
    (v) => String(v),
    (s, p) => {
      const n = Number(s);
      if (s.trim() === '' || !Number.isFinite(n)) throw new FieldError(p, `expected a number, got '${s.slice(0, 32)}'`);
      return n;
    },
  );

export const bool = (): Codec<boolean> =>
  scalar(
    (v) => (v ? 'true' : 'false'),
    (s, p) => {
      if (s === 'true' || s === '1') return true;
      if (s === 'false' || s === '0') return false;
      throw new FieldError(p, `expected true or false, got '${s.slice(0, 32)}'`);
    },
  );

const JID_RE = /^(?:[^@/<>'"\s]{1,1023}@)?[^@/<>'"\s]{1,1023}(?:\/.{1,1023})?$/;
export const jid = (): Codec<string> =>
  scalar(
    (v) => v,
    (s, p) => {
      if (!JID_RE.test(s)) throw new FieldError(p, `'${s.slice(0, 64)}' is not a JID`);
      return s;
    },
  );

/** A string carried as element text: contexts, scripts, messages. */
export const text = (o: { max?: number } = {}): Codec<string> => ({
  kind: 'child',
  optional: false,
  toChild: (parent, name, v) => {
    parent.c(name).t(v);
  },
  fromChild: (parent, name, path) => {
    const el = parent.getChild(name);
    if (!el) return undefined;
    const v = el.getText();
    const max = o.max ?? 256 * 1024;
    if (v.length > max) throw new FieldError(path, `longer than ${max} characters (${v.length})`);
    return v;
  },
});

/** Arbitrary JSON (bounded), for provider extras and metrics. */
export const json = <T = unknown>(o: { max?: number } = {}): Codec<T> => ({
  kind: 'child',
  optional: false,
  toChild: (parent, name, v) => {
    parent.c(name).t(JSON.stringify(v));
  },
  fromChild: (parent, name, path) => {
    const el = parent.getChild(name);
    if (!el) return undefined;
    const s = el.getText();
    if (s.length > (o.max ?? 64 * 1024))
      throw new FieldError(path, `JSON longer than ${o.max ?? 64 * 1024} characters`);
    try {
      return JSON.parse(s) as T;
    } catch {
      throw new FieldError(path, 'not valid JSON');
    }
  },
});

export function optional<T>(c: Codec<T>): Codec<T | undefined> & { readonly optional: true } {
  return { ...(c as Codec<T | undefined>), optional: true };
}

type Shape = Record<string, Codec<any>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K]['optional'] extends true ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
};

export interface ObjectCodec<S extends Shape> extends Codec<ObjectOf<S>> {
  readonly shape: S;
  /** Writes the fields onto an existing element (the payload root). */
  write(el: Element, v: ObjectOf<S>): Element;
  /** Reads and validates the fields of an element; `path` prefixes error paths. */
  read(el: Element, path: string): ObjectOf<S>;
}

export function object<S extends Shape>(shape: S): ObjectCodec<S> {
  const entries = Object.entries(shape);
  const write = (el: Element, v: ObjectOf<S>): Element => {
    for (const [k, c] of entries) {
      const fv = (v as Record<string, unknown>)[k];
      if (fv === undefined || fv === null) continue;
      if (c.kind === 'scalar') el.attrs[k] = c.toAttr!(fv);
      else c.toChild!(el, k, fv);
    }
    return el;
  };
  const read = (el: Element, path: string): ObjectOf<S> => {
    const out: Record<string, unknown> = {};
    for (const [k, c] of entries) {
      const p = `${path}/${c.kind === 'scalar' ? '@' : ''}${k}`;
      let v: unknown;
      if (c.kind === 'scalar') {
        const a = el.attrs[k];
        v = a === undefined ? undefined : c.fromAttr!(String(a), p);
      } else {
        v = c.fromChild!(el, k, p);
      }
      if (v === undefined) {
        if (!c.optional) throw new FieldError(p, 'missing');
        continue;
      }
      out[k] = v;
    }
    return out as ObjectOf<S>;
  };
  return {
    kind: 'child',
    optional: false,
    shape,
    write,
    read,
    toChild: (parent, name, v) => {
      write(parent.c(name), v);
    },
    fromChild: (parent, name, path) => {
      const el = parent.getChild(name);
      return el ? read(el, path) : undefined;
    },
  };
}

/** A list of items, each an element named `item` inside a wrapper element. */
export function list<T>(item: Codec<T>, o: { max?: number; itemName?: string } = {}): Codec<T[]> {
  const itemName = o.itemName ?? 'item';
  const max = o.max ?? 10000;
  return {
    kind: 'child',
    optional: false,
    toChild: (parent, name, v) => {
      const w = parent.c(name);
      for (const x of v) {
        if (item.kind === 'scalar') w.c(itemName).t(item.toAttr!(x));
        else item.toChild!(w, itemName, x);
      }
    },
    fromChild: (parent, name, path) => {
      const w = parent.getChild(name);
      if (!w) return undefined;
      const kids = w.getChildren(itemName);
      if (kids.length > max) throw new FieldError(path, `more than ${max} items (${kids.length})`);
      return kids.map((k, i) => {
        const p = `${path}[${i}]`;
        if (item.kind === 'scalar') return item.fromAttr!(k.getText(), p);
        const holder = new Element('x');
        holder.children.push(k);
        return item.fromChild!(holder, itemName, p) as T;
      });
    },
  };
}

/** A string-keyed map: <name><entry k="key">value</entry>…</name>. */
export function record(o: { max?: number; maxValue?: number } = {}): Codec<Record<string, string>> {
  return {
    kind: 'child',
    optional: false,
    toChild: (parent, name, v) => {
      const w = parent.c(name);
      for (const [k, x] of Object.entries(v)) w.c('entry', { k }).t(x);
    },
    fromChild: (parent, name, path) => {
      const w = parent.getChild(name);
      if (!w) return undefined;
      const kids = w.getChildren('entry');
      if (kids.length > (o.max ?? 1000)) throw new FieldError(path, `more than ${o.max ?? 1000} entries`);
      const out: Record<string, string> = Object.create(null);
      for (const [i, k] of kids.entries()) {
        const key = k.attrs.k;
        if (typeof key !== 'string' || key === '') throw new FieldError(`${path}[${i}]/@k`, 'missing');
        const v = k.getText();
        if (v.length > (o.maxValue ?? DEFAULT_MAX)) throw new FieldError(`${path}[${key}]`, 'value too long');
        out[key] = v;
      }
      return out;
    },
  };
}

/**
 * The same `<entry k="…">` map as record(), with integer values: the decoder checks each
 * value once (naming its key) and hands out numbers, so no receiver re-parses text.
 */
export function intRecord(o: { max?: number; min?: number; maxValue?: number } = {}): Codec<Record<string, number>> {
  const each = int({ min: o.min, max: o.maxValue });
  const raw = record({ max: o.max, maxValue: 32 });
  return {
    kind: 'child',
    optional: false,
    toChild: (parent, name, v) =>
      raw.toChild!(parent, name, Object.fromEntries(Object.entries(v).map(([k, n]) => [k, String(n)]))),
    fromChild: (parent, name, path) => {
      const texts = raw.fromChild!(parent, name, path);
      if (texts === undefined) return undefined;
      const out: Record<string, number> = Object.create(null);
      for (const [k, s] of Object.entries(texts)) out[k] = each.fromAttr!(s, `${path}[${k}]`);
      return out;
    },
  };
}
