/**
 * Cluster definitions: an INI file with one `[cluster]` section and one
 * `[service.<name>]` section per service (see examples/cluster.ini). Keys and values are
 * checked by core/config.ts; this file adds the rules between services, reporting every
 * problem with file, line, section and key like the configuration does.
 *
 * Fixed services (a head node, a database) are deployed first, once, in `order`; scalable
 * services depend on them and move between `min` and `max`. The result lists services in
 * deploy order: dependencies first, fixed before scalable, then by order and name.
 */
import { readFileSync } from 'node:fs';
import { conf, ConfigError, ConfigInvalidError, parseConfig, type ConfigIssue } from '../../../core/index.js';
import { serviceNameProblem } from '../../../protocols/index.js';

const { enumOf, field, FieldProblem, int, list, nearest, readIni, section, sections, str } = conf;
import { autoscaleFields, toPolicy, type AutoscalePolicy } from './autoscale-policy.js';

export type GenericFlavorName = 'small' | 'medium' | 'large';
export type Flavor =
  | { readonly type: 'generic'; readonly name: GenericFlavorName }
  | { readonly type: 'custom'; readonly cores: number; readonly memoryMb: number };

/** The gateway's estimate of a generic flavor, for placement; each cloud agent maps the
 * name to its own cloud's flavor, which may be somewhat larger. */
export const GENERIC_FLAVORS: Readonly<Record<GenericFlavorName, { cores: number; memoryMb: number }>> = Object.freeze({
  small: { cores: 1, memoryMb: 2048 },
  medium: { cores: 2, memoryMb: 4096 },
  large: { cores: 4, memoryMb: 8192 },
});

export function flavorSize(f: Flavor): { cores: number; memoryMb: number } {
  return f.type === 'generic' ? GENERIC_FLAVORS[f.name] : { cores: f.cores, memoryMb: f.memoryMb };
}

interface ServiceBase {
  readonly name: string;
  readonly flavor: Flavor;
  readonly image: string;
  readonly context?: { readonly ref: string; readonly version?: number };
  /** Preferred clouds (names or JIDs), best first; empty means any. */
  readonly clouds: readonly string[];
  readonly depends: readonly string[];
}
export interface FixedService extends ServiceBase {
  readonly type: 'fixed';
  readonly order: number;
  readonly count: number;
}
export interface ScalableService extends ServiceBase {
  readonly type: 'scalable';
  readonly min: number;
  readonly max: number;
  readonly initial: number;
  /** From its `[autoscale.<name>]` section, if any. */
  readonly autoscale?: AutoscalePolicy;
}
export type ServiceDef = FixedService | ScalableService;

export interface ClusterDef {
  readonly name: string;
  readonly description?: string;
  /** In deploy order. */
  readonly services: readonly ServiceDef[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

const flavor = () =>
  field<Flavor>('flavor', (raw) => {
    if (raw === 'small' || raw === 'medium' || raw === 'large') return { type: 'generic', name: raw };
    const parts = new Map<string, string>();
    for (const p of raw.split(',')) {
      const [k = '', v = ''] = p.split(':').map((x) => x.trim());
      parts.set(k, v);
    }
    const cores = Number(parts.get('cores') || NaN);
    const memory = Number(parts.get('memory') || NaN);
    if (parts.size !== 2 || !Number.isInteger(cores) || cores < 1 || !Number.isInteger(memory) || memory < 1) {
      throw new FieldProblem(`expected small, medium, large or 'cores:N,memory:MB', got '${raw}'`);
    }
    return { type: 'custom', cores, memoryMb: memory };
  });

const schema = {
  cluster: section({ name: str({ pattern: NAME }), description: str({ optional: true }) }),
  'service.*': sections({
    type: enumOf(['fixed', 'scalable']),
    order: int({ min: 0, optional: true }),
    count: int({ min: 1, optional: true }),
    min: int({ min: 0, optional: true }),
    max: int({ min: 1, optional: true }),
    initial: int({ min: 0, optional: true }),
    depends: list({ default: [] }),
    flavor: flavor(),
    image: str({ nonEmpty: true }),
    context: str({ optional: true, nonEmpty: true }),
    context_version: int({ min: 1, optional: true }),
    clouds: list({ default: [] }),
  }),
  'autoscale.*': sections(autoscaleFields),
};

const ONLY_FIXED = ['order', 'count'] as const;
const ONLY_SCALABLE = ['min', 'max', 'initial'] as const;

export function loadCluster(file: string): ClusterDef {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read cluster definition (${(err as Error).message})`, { cause: err });
  }
  return parseCluster(text, file);
}

export function parseCluster(text: string, file = 'cluster.ini'): ClusterDef {
  const cfg = parseConfig(text, file, schema);
  const lines = lineIndex(text);
  const issues: ConfigIssue[] = [];
  const fail = (svc: string | undefined, key: string | undefined, message: string) => {
    const sec = svc === undefined ? 'cluster' : `service.${svc}`;
    issues.push({ file, line: lines.get(`${sec}\n${key ?? ''}`) ?? lines.get(`${sec}\n`), section: sec, key, message });
  };

  const raw = cfg['service.*'];
  const names = Object.keys(raw);
  if (names.length === 0) fail(undefined, undefined, 'no [service.<name>] sections');
  const services: ServiceDef[] = [];
  for (const name of names) {
    const s = raw[name]!;
    if (!NAME.test(name)) fail(name, undefined, `service name must match ${NAME}`);
    const tooLong = serviceNameProblem(name);
    if (tooLong) fail(name, undefined, tooLong);
    const wrong = s.type === 'fixed' ? ONLY_SCALABLE : ONLY_FIXED;
    for (const k of wrong)
      if (s[k] !== undefined) fail(name, k, `only for ${s.type === 'fixed' ? 'scalable' : 'fixed'} services`);
    if (s.context_version !== undefined && s.context === undefined) fail(name, 'context_version', 'needs a context');
    for (const d of s.depends) {
      if (d === name) fail(name, 'depends', 'a service cannot depend on itself');
      else if (!Object.hasOwn(raw, d)) {
        const near = nearest(d, names);
        fail(name, 'depends', `unknown service '${d}'${near ? ` (did you mean '${near}'?)` : ''}`);
      }
    }
    const base = {
      name,
      flavor: s.flavor,
      image: s.image,
      clouds: [...new Set(s.clouds)],
      depends: [...new Set(s.depends)],
      ...(s.context !== undefined
        ? { context: { ref: s.context, ...(s.context_version !== undefined ? { version: s.context_version } : {}) } }
        : {}),
    };
    if (s.type === 'fixed') {
      services.push({ ...base, type: 'fixed', order: s.order ?? 0, count: s.count ?? 1 });
    } else {
      const min = s.min ?? 0;
      const initial = s.initial ?? min;
      if (s.max === undefined) fail(name, 'max', 'missing required key (scalable services need a max)');
      const max = s.max ?? Math.max(min, initial, 1);
      if (min > max) fail(name, 'min', `min ${min} is above max ${max}`);
      else if (initial < min || initial > max)
        fail(name, 'initial', `initial ${initial} is outside min..max (${min}..${max})`);
      services.push({ ...base, type: 'scalable', min, max, initial });
    }
  }

  const types = new Map(services.map((s) => [s.name, s.type]));
  for (const [name, a] of Object.entries(cfg['autoscale.*'])) {
    const sec = `autoscale.${name}`;
    const policy = toPolicy(name, a, types, (key, message) =>
      issues.push({
        file,
        line: lines.get(`${sec}\n${key ?? ''}`) ?? lines.get(`${sec}\n`),
        section: sec,
        key,
        message,
      }),
    );
    const i = services.findIndex((s) => s.name === name);
    if (services[i]?.type === 'scalable') services[i] = { ...services[i], autoscale: policy };
  }

  const byName = new Map(services.map((s) => [s.name, s]));
  for (const s of services) {
    if (s.type !== 'fixed') continue;
    for (const d of s.depends) {
      const dep = byName.get(d);
      if (dep?.type === 'scalable') fail(s.name, 'depends', `fixed service cannot depend on scalable service '${d}'`);
      else if (dep && dep.order > s.order)
        fail(s.name, 'depends', `depends on '${d}' whose order ${dep.order} comes after ${s.order}`);
    }
  }
  const cycle = findCycle(services, byName);
  if (cycle) fail(cycle[0], 'depends', `dependency cycle: ${cycle.join(' -> ')}`);

  if (issues.length > 0) throw new ConfigInvalidError(file, issues);
  return deepFreeze({
    name: cfg.cluster.name,
    ...(cfg.cluster.description !== undefined ? { description: cfg.cluster.description } : {}),
    services: deployOrder(services, byName),
  });
}

/** Line of each `section\nkey` (and `section\n` for the header) for error messages. */
function lineIndex(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of readIni(text).doc.sections) {
    m.set(`${s.name}\n`, s.line);
    for (const e of s.entries) m.set(`${s.name}\n${e.key}`, e.line);
  }
  return m;
}

function findCycle(services: readonly ServiceDef[], byName: Map<string, ServiceDef>): string[] | undefined {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'active') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'active');
    stack.push(n);
    for (const d of byName.get(n)?.depends ?? []) {
      if (!byName.has(d)) continue;
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const s of [...services].sort((a, b) => a.name.localeCompare(b.name))) {
    const c = visit(s.name);
    if (c) return c;
  }
  return undefined;
}

/** Kahn's algorithm, always taking the ready service with the smallest
 * (fixed-before-scalable, order, name): deterministic, and with valid orders it lists
 * fixed services by order before every scalable one. */
function deployOrder(services: readonly ServiceDef[], byName: Map<string, ServiceDef>): ServiceDef[] {
  const key = (s: ServiceDef) => [s.type === 'fixed' ? 0 : 1, s.type === 'fixed' ? s.order : 0, s.name] as const;
  const cmp = (a: ServiceDef, b: ServiceDef) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2]);
  };
  const done = new Set<string>();
  const out: ServiceDef[] = [];
  while (out.length < services.length) {
    const ready = services.filter((s) => !done.has(s.name) && s.depends.every((d) => done.has(d) || !byName.has(d)));
    const next = ready.sort(cmp)[0]!;
    done.add(next.name);
    out.push(next);
  }
  return out;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
