/**
 * Field kinds for core/config.ts. A field converts one raw INI string into a typed value,
 * or throws FieldProblem with a message that config.ts prefixes with file, section and key.
 *
 * Types: `Field<T, P>` where P is true when a value is always present (required, or has a
 * default) and false when the key may be absent (`optional: true` without a default), so
 * the parsed configuration's type is inferred from the schema.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CloudgateError } from './errors.js';

/** A value that does not convert; config.ts adds the location. */
export class FieldProblem extends Error {}

export interface FieldContext {
  /** Directory of the configuration file; relative paths resolve against it. */
  readonly dir: string;
}

export interface Field<T, P extends boolean = boolean> {
  readonly kind: string;
  /** Always present after parsing (required or defaulted). */
  readonly present: P;
  readonly optional: boolean;
  readonly secret: boolean;
  /** A string default is raw text, converted like a value read from the file (so a
   * default path resolves next to the file); any other default is used as is. */
  readonly default?: T | string;
  convert(raw: string, ctx: FieldContext): T;
}

export interface Common<D> {
  optional?: boolean;
  default?: D;
  /** Replaced by '[redacted]' in redacted(cfg). */
  secret?: boolean;
}

/** true when the options guarantee a value: a default, or not optional. */
export type Present<O> = O extends { default: unknown } ? true : O extends { optional: true } ? false : true;

/**
 * Builds a field of a new kind: `convert` turns the raw string into T or throws
 * FieldProblem. The kinds below are all made this way.
 */
export function field<T, const O extends Common<T | string> = {}>(
  kind: string,
  convert: (raw: string, ctx: FieldContext) => T,
  opts?: O,
): Field<T, Present<O>> {
  const o: Common<unknown> = opts ?? {};
  const f = {
    kind,
    present: (o.default !== undefined || !o.optional) as Present<O>,
    optional: o.optional === true,
    secret: o.secret === true,
    default: o.default as T | string | undefined,
    convert,
  };
  // A bad default is a programming error: fail where the schema is written, not at load.
  if (typeof o.default === 'string' && kind !== 'path') {
    try {
      convert(o.default, { dir: '.' });
    } catch (err) {
      throw new TypeError(`invalid default for ${kind} field: ${(err as Error).message}`);
    }
  }
  return Object.freeze(f);
}

export function str<const O extends Common<string> & { pattern?: RegExp; nonEmpty?: boolean } = {}>(
  opts?: O,
): Field<string, Present<O>> {
  return field(
    'str',
    (raw) => {
      if (opts?.nonEmpty && raw === '') throw new FieldProblem('must not be empty');
      if (opts?.pattern && !opts.pattern.test(raw)) throw new FieldProblem(`'${raw}' does not match ${opts.pattern}`);
      return raw;
    },
    opts,
  );
}

interface Range {
  min?: number;
  max?: number;
}

function inRange(n: number, r: Range | undefined, unit = ''): number {
  if (r?.min !== undefined && n < r.min) throw new FieldProblem(`${n}${unit} is below the minimum ${r.min}${unit}`);
  if (r?.max !== undefined && n > r.max) throw new FieldProblem(`${n}${unit} is above the maximum ${r.max}${unit}`);
  return n;
}

export function int<const O extends Common<number> & Range = {}>(opts?: O): Field<number, Present<O>> {
  return field(
    'int',
    (raw) => {
      const n = Number(raw);
      if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(n))
        throw new FieldProblem(`expected an integer, got '${raw}'`);
      return inRange(n, opts);
    },
    opts,
  );
}

export function num<const O extends Common<number> & Range = {}>(opts?: O): Field<number, Present<O>> {
  return field(
    'num',
    (raw) => {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new FieldProblem(`expected a number, got '${raw}'`);
      return inRange(n, opts);
    },
    opts,
  );
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

export function bool<const O extends Common<boolean> = {}>(opts?: O): Field<boolean, Present<O>> {
  return field(
    'bool',
    (raw) => {
      const v = raw.toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new FieldProblem(`expected true/false/yes/no/on/off/1/0, got '${raw}'`);
    },
    opts,
  );
}

/** Space- and/or comma-separated strings; an empty value is an empty list. */
export function list<const O extends Common<readonly string[] | string> & { minItems?: number } = {}>(
  opts?: O,
): Field<readonly string[], Present<O>> {
  return field(
    'list',
    (raw) => {
      const items = raw.split(/[\s,]+/).filter((s) => s !== '');
      if (opts?.minItems !== undefined && items.length < opts.minItems) {
        throw new FieldProblem(`expected at least ${opts.minItems} item(s), got ${items.length}`);
      }
      return Object.freeze(items);
    },
    opts,
  );
}

export function enumOf<const V extends readonly string[], const O extends Common<V[number]> = {}>(
  values: V,
  opts?: O,
): Field<V[number], Present<O>> {
  return field(
    'enum',
    (raw) => {
      if ((values as readonly string[]).includes(raw)) return raw as V[number];
      const near = nearest(raw, values);
      throw new FieldProblem(`'${raw}' is not one of ${values.join(', ')}${near ? ` (did you mean '${near}'?)` : ''}`);
    },
    opts,
  );
}

export function jid<const O extends Common<string> & { bare?: boolean } = {}>(opts?: O): Field<string, Present<O>> {
  return field(
    'jid',
    (raw) => {
      try {
        return normalizeJid(raw, { bare: opts?.bare });
      } catch (err) {
        throw new FieldProblem((err as Error).message);
      }
    },
    opts,
  );
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '250ms', '30s', '5m', '1h30m', '2d'; a plain number is seconds. The value is milliseconds. */
export function duration<const O extends Common<number | string> & Range = {}>(opts?: O): Field<number, Present<O>> {
  return field(
    'duration',
    (raw) => {
      let ms: number;
      if (/^\d+(\.\d+)?$/.test(raw)) ms = Number(raw) * 1000;
      else if (/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(raw)) {
        ms = 0;
        for (const m of raw.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
      } else throw new FieldProblem(`expected a duration like 250ms, 30s, 5m, 1h, got '${raw}'`);
      return inRange(Math.round(ms), opts, 'ms');
    },
    opts,
  );
}

/** A filesystem path; relative paths resolve against the configuration file's directory. */
export function path<const O extends Common<string> & { mustExist?: boolean } = {}>(
  opts?: O,
): Field<string, Present<O>> {
  return field(
    'path',
    (raw, ctx) => {
      if (raw === '') throw new FieldProblem('expected a path, got an empty value');
      const p = isAbsolute(raw) ? raw : resolve(ctx.dir, raw);
      if (opts?.mustExist && !existsSync(p)) throw new FieldProblem(`${p} does not exist`);
      return p;
    },
    opts,
  );
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** 'host:port', '[v6addr]:port', or 'host' when defaultPort is given. */
export function hostPort<const O extends Common<string | HostPort> & { defaultPort?: number } = {}>(
  opts?: O,
): Field<HostPort, Present<O>> {
  return field(
    'hostPort',
    (raw) => {
      const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/[\]]+))(?::(\d+))?$/.exec(raw);
      if (!m) {
        const hint = (raw.match(/:/g) ?? []).length > 1 ? ' (write IPv6 addresses in brackets: [::1]:5222)' : '';
        throw new FieldProblem(`expected host:port, got '${raw}'${hint}`);
      }
      const port = m[3] !== undefined ? Number(m[3]) : opts?.defaultPort;
      if (port === undefined) throw new FieldProblem(`'${raw}' has no port`);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new FieldProblem(`port ${port} is out of range 1-65535`);
      return Object.freeze({ host: (m[1] ?? m[2])!, port });
    },
    opts,
  );
}

/**
 * A list of host:port entries separated by commas (the nodes of a cluster); an entry
 * that does not parse is named by its position and text.
 */
export function hostPortList<const O extends Common<string> & { defaultPort?: number } = {}>(
  opts?: O,
): Field<readonly HostPort[], Present<O>> {
  const one = hostPort({ defaultPort: opts?.defaultPort });
  return field(
    'hostPortList',
    (raw, ctx) => {
      const entries = raw.split(',').map((e) => e.trim());
      if (entries.length === 1 && entries[0] === '') throw new FieldProblem('expected host:port, host:port, ...');
      return Object.freeze(
        entries.map((e, i) => {
          if (e === '') throw new FieldProblem(`entry ${i + 1} is empty (expected host:port, host:port, ...)`);
          try {
            return one.convert(e, ctx);
          } catch (err) {
            throw new FieldProblem(`entry ${i + 1} '${e}': ${(err as Error).message}`);
          }
        }),
      );
    },
    opts,
  );
}

/**
 * Validates a JID (RFC 7622 address syntax, without full PRECIS profiles) and returns it
 * with localpart and domainpart lower-cased, as ejabberd compares them; the resource keeps
 * its case. Throws CloudgateError CG_INVALID_JID.
 */
export function normalizeJid(text: string, opts: { bare?: boolean } = {}): string {
  const bad = (why: string) => new CloudgateError('CG_INVALID_JID', `'${text}' is not a valid JID: ${why}`);
  const slash = text.indexOf('/');
  const bareText = slash < 0 ? text : text.slice(0, slash);
  const resource = slash < 0 ? undefined : text.slice(slash + 1);
  const at = bareText.indexOf('@');
  const local = at < 0 ? undefined : bareText.slice(0, at);
  const domain = at < 0 ? bareText : bareText.slice(at + 1);
  if (local !== undefined && (local === '' || /[\s"&'/:<>@]/.test(local))) throw bad('bad localpart');
  if (!/^(\[[0-9A-Fa-f:.]+\]|[^\s@/\\"&'<>:[\]]+)$/.test(domain) || domain.startsWith('.') || domain.endsWith('.')) {
    throw bad('bad domainpart');
  }
  if (resource !== undefined) {
    if (opts.bare) throw bad('a bare JID (no /resource) is required');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a resourcepart may not hold control characters (RFC 7622)
    if (resource === '' || /[\u0000-\u001f]/.test(resource)) throw bad('bad resourcepart');
  }
  for (const part of [local, domain, resource]) {
    if (part !== undefined && Buffer.byteLength(part) > 1023) throw bad('a part is longer than 1023 bytes');
  }
  const b = `${local !== undefined ? `${local.toLowerCase()}@` : ''}${domain.toLowerCase()}`;
  return resource !== undefined ? `${b}/${resource}` : b;
}

/** The candidate closest to `word` by edit distance (transpositions count 1), if close enough. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
