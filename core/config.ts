/**
 * Configuration: an INI file parsed once at start-up against a typed schema, converted,
 * validated and frozen. Every problem is reported at once, each naming the file, line,
 * section and key, with the nearest known name for typos:
 *
 *   cloud.ini:7 [quota] instnaces: unknown key (did you mean 'instances'?)
 *
 *   const cfg = loadConfig(file, {
 *     xmpp: section({ jid: jid(), password: str({ secret: true, optional: true }) }),
 *     quota: section({ instances: int({ min: 0, default: 100 }) }, { optional: true }),
 *     driver: record({ secret: ['secret_key'] }),
 *     'flavor.*': sections({ cores: int(), memory_mb: int() }),
 *   });
 *   cfg.xmpp.jid; cfg.quota?.instances; cfg['flavor.*'].small?.cores
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from './errors.js';
import { readIni, type IniEntry, type IniSection } from './config-ini.js';
import { nearest, str, type Field, type FieldContext } from './config-fields.js';

export {
  field,
  str,
  int,
  num,
  bool,
  list,
  enumOf,
  jid,
  duration,
  path,
  hostPort,
  hostPortList,
  normalizeJid,
  nearest,
  FieldProblem,
} from './config-fields.js';
export type { Field, FieldContext, HostPort, Common, Present } from './config-fields.js';
export { readIni } from './config-ini.js';
export type { IniDocument, IniSection, IniEntry, IniProblem, ReadIniOptions } from './config-ini.js';

export type Fields = Record<string, Field<unknown, boolean>>;

export interface SectionSpec<F extends Fields, O extends boolean> {
  readonly kind: 'section';
  readonly fields: F;
  readonly optional: O;
}
/**
 * `key = value` pairs (a driver's own options), all converted by one field. With `keys`,
 * only those keys and `<prefix>.<id>` keys are allowed; without, any key is.
 */
export interface RecordSpec<V> {
  readonly kind: 'record';
  readonly value: Field<V, boolean>;
  readonly secret: boolean | readonly string[];
  readonly keys?: { readonly names: readonly string[]; readonly prefixes?: readonly string[] };
}
/** `[prefix.<name>]` sections, under a schema key `prefix.*`, keyed by `<name>`. */
export interface SectionsSpec<F extends Fields> {
  readonly kind: 'sections';
  readonly fields: F;
}

export type Spec = SectionSpec<Fields, boolean> | RecordSpec<unknown> | SectionsSpec<Fields>;
export type Schema = Record<string, Spec>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ValueOf<F> = F extends Field<infer T, boolean> ? T : never;
type IsPresent<F> = F extends Field<unknown, infer P> ? P : never;

export type SectionValue<F extends Fields> = Simplify<
  { readonly [K in keyof F as IsPresent<F[K]> extends true ? K : never]: ValueOf<F[K]> } & {
    readonly [K in keyof F as IsPresent<F[K]> extends true ? never : K]?: ValueOf<F[K]>;
  }
>;
type SpecValue<S> =
  S extends SectionSpec<infer F, boolean>
    ? SectionValue<F>
    : S extends RecordSpec<infer V>
      ? Readonly<Record<string, V>>
      : S extends SectionsSpec<infer F>
        ? Readonly<Record<string, SectionValue<F>>>
        : never;
type IsOptional<S> = S extends SectionSpec<Fields, infer O> ? O : false;

/** The frozen result of parsing with schema S. */
export type Config<S extends Schema> = Simplify<
  { readonly [K in keyof S as IsOptional<S[K]> extends true ? never : K]: SpecValue<S[K]> } & {
    readonly [K in keyof S as IsOptional<S[K]> extends true ? K : never]?: SpecValue<S[K]>;
  }
>;

export function section<const F extends Fields, const O extends boolean = false>(
  fields: F,
  opts?: { optional?: O },
): SectionSpec<F, O> {
  return Object.freeze({ kind: 'section', fields, optional: (opts?.optional ?? false) as O });
}

export function record<V = string>(
  opts: { value?: Field<V, boolean>; secret?: boolean | readonly string[]; keys?: RecordSpec<V>['keys'] } = {},
): RecordSpec<V> {
  return Object.freeze({
    kind: 'record',
    value: opts.value ?? (str() as unknown as Field<V, boolean>),
    secret: opts.secret ?? false,
    keys: opts.keys,
  });
}

export function sections<const F extends Fields>(fields: F): SectionsSpec<F> {
  return Object.freeze({ kind: 'sections', fields });
}

/** One problem; `line` is absent for keys or sections that are missing. */
export interface ConfigIssue {
  readonly file: string;
  readonly line?: number;
  readonly section?: string;
  readonly key?: string;
  readonly message: string;
}

export function formatIssue(i: ConfigIssue): string {
  const where = `${i.file}${i.line !== undefined ? `:${i.line}` : ''}${i.section !== undefined ? ` [${i.section}]` : ''}`;
  return i.key !== undefined ? `${where} ${i.key}: ${i.message}` : `${where}: ${i.message}`;
}

/** Invalid configuration; `issues` lists every problem found, the message one per line. */
export class ConfigInvalidError extends ConfigError {
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(issues.map(formatIssue).join('\n'));
  }
}

const SECRETS = Symbol.for('cloudgate.config.secrets');

export function loadConfig<S extends Schema>(file: string, schema: S): Config<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code ? `${e.code}: ${e.message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')}` : e.message;
    throw new ConfigError(`${file}: cannot read configuration (${reason})`, { cause: err });
  }
  return parseConfig(text, file, schema);
}

/** Parses `text` as if read from `file` (used in messages and to resolve relative paths). */
export function parseConfig<S extends Schema>(text: string, file: string, schema: S): Config<S> {
  checkSchema(schema);
  const issues: ConfigIssue[] = [];
  const { doc, problems } = readIni(text, { preamble: 'error' });
  for (const p of problems) issues.push({ file, ...p });

  const ctx: FieldContext = { dir: dirname(resolve(file)) };
  const out: Record<string, unknown> = {};
  const secrets: string[][] = [];
  const byName = new Map(doc.sections.map((s) => [s.name, s]));
  const claimed = new Set<string>();

  for (const [name, spec] of Object.entries(schema)) {
    if (spec.kind === 'sections') {
      const prefix = name.slice(0, -1);
      const group: Record<string, unknown> = {};
      for (const s of doc.sections) {
        if (!s.name.startsWith(prefix) || s.name.length === prefix.length) continue;
        claimed.add(s.name);
        const suffix = s.name.slice(prefix.length);
        if (suffix === '__proto__') {
          issues.push({ file, line: s.line, section: s.name, message: 'reserved name' });
          continue;
        }
        group[suffix] = convertSection(file, s.name, s, spec.fields, ctx, issues, [name, suffix], secrets);
      }
      out[name] = group;
      continue;
    }
    const s = byName.get(name);
    if (s) claimed.add(name);
    if (spec.kind === 'record') {
      out[name] = convertRecord(file, name, s, spec, ctx, issues, secrets);
    } else if (s || !spec.optional) {
      out[name] = convertSection(file, name, s, spec.fields, ctx, issues, [name], secrets);
    }
  }

  for (const s of doc.sections) {
    if (claimed.has(s.name)) continue;
    const candidates = Object.entries(schema).map(([n, spec]) =>
      spec.kind === 'sections' ? `${n.slice(0, -1)}${s.name.split('.').slice(1).join('.') || '<name>'}` : n,
    );
    const near = nearest(s.name, candidates);
    issues.push({
      file,
      line: s.line,
      section: s.name,
      message: `unknown section${near ? ` (did you mean [${near}]?)` : ''}`,
    });
  }

  if (issues.length > 0) throw new ConfigInvalidError(file, issues);
  Object.defineProperty(out, SECRETS, { value: Object.freeze(secrets.map((p) => Object.freeze(p))) });
  return deepFreeze(out) as Config<S>;
}

function checkSchema(schema: Schema): void {
  for (const [name, spec] of Object.entries(schema)) {
    const pattern = name.endsWith('.*');
    if (pattern !== (spec.kind === 'sections')) {
      throw new TypeError(`config schema key '${name}': use sections() exactly for keys ending in '.*'`);
    }
  }
}

function convertSection(
  file: string,
  name: string,
  s: IniSection | undefined,
  fields: Fields,
  ctx: FieldContext,
  issues: ConfigIssue[],
  at: string[],
  secrets: string[][],
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const given = new Map<string, IniEntry>();
  for (const e of s?.entries ?? []) {
    if (!Object.hasOwn(fields, e.key)) {
      const near = nearest(e.key, Object.keys(fields));
      issues.push({
        file,
        line: e.line,
        section: name,
        key: e.key,
        message: `unknown key${near ? ` (did you mean '${near}'?)` : ''}`,
      });
      continue;
    }
    given.set(e.key, e);
  }
  for (const [key, f] of Object.entries(fields)) {
    const e = given.get(key);
    const fail = (message: string) => issues.push({ file, line: e?.line, section: name, key, message });
    try {
      if (e) values[key] = f.convert(e.value, ctx);
      else if (typeof f.default === 'string') values[key] = f.convert(f.default, ctx);
      else if (f.default !== undefined) values[key] = f.default;
      else if (!f.optional) fail(s ? 'missing required key' : `missing required key (section [${name}] is absent)`);
    } catch (err) {
      fail(e ? (err as Error).message : `bad default: ${(err as Error).message}`);
    }
    if (f.secret && values[key] !== undefined) secrets.push([...at, key]);
  }
  return values;
}

function convertRecord(
  file: string,
  name: string,
  s: IniSection | undefined,
  spec: RecordSpec<unknown>,
  ctx: FieldContext,
  issues: ConfigIssue[],
  secrets: string[][],
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const e of s?.entries ?? []) {
    // Assigning '__proto__' would replace the object's prototype instead of adding a key.
    if (e.key === '__proto__') {
      issues.push({ file, line: e.line, section: name, key: e.key, message: 'reserved name' });
      continue;
    }
    const k = spec.keys;
    if (
      k &&
      !k.names.includes(e.key) &&
      !(k.prefixes ?? []).some((p) => e.key.startsWith(`${p}.`) && e.key.length > p.length + 1)
    ) {
      const prefix = (k.prefixes ?? []).find((p) => e.key === p || e.key === `${p}.`);
      const near = prefix ? `${prefix}.<id>` : nearest(e.key, k.names);
      issues.push({
        file,
        line: e.line,
        section: name,
        key: e.key,
        message: `unknown key${near ? ` (did you mean '${near}'?)` : ''}`,
      });
      continue;
    }
    try {
      values[e.key] = spec.value.convert(e.value, ctx);
    } catch (err) {
      issues.push({ file, line: e.line, section: name, key: e.key, message: (err as Error).message });
    }
    if (spec.secret === true || (Array.isArray(spec.secret) && spec.secret.includes(e.key)))
      secrets.push([name, e.key]);
  }
  return values;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * A deep, unfrozen copy of a parsed configuration with every secret field (and every
 * secret record key) replaced by '[redacted]', for logging the effective configuration.
 */
export function redacted(cfg: object): Record<string, unknown> {
  const copy = structuredClone(cfg) as Record<string, unknown>;
  const paths = (cfg as { [SECRETS]?: readonly (readonly string[])[] })[SECRETS] ?? [];
  for (const p of paths) {
    let node: Record<string, unknown> | undefined = copy;
    for (const k of p.slice(0, -1)) node = node?.[k] as Record<string, unknown> | undefined;
    if (node && p[p.length - 1]! in node) node[p[p.length - 1]!] = '[redacted]';
  }
  return copy;
}
