/**
 * Turn a context into ordered steps and check all of it before anything runs: unknown
 * plugins, every section's data, URLs. Any problem rejects the whole context, so an
 * instance is never left half-applied by a typo.
 */
import { ContextError, formatLocation } from './errors.js';
import { RESERVED_SECTIONS, preambleHasCommands, type Context, type Section } from './parse.js';
import { PHASES, type Phase, type Plugin, type PluginResult, type Problem } from './plugin.js';
import type { PluginRegistry } from './registry.js';

export interface Step {
  plugin: Plugin;
  phase: Phase;
  id: string;
  section: Section;
}

/** One problem, with where it is, for callers that show or sort them (the gateway on store). */
export interface PlanIssue {
  plugin: string;
  line?: number;
  section?: string;
  key?: string;
  reason: string;
  kind: 'unknown-plugin' | 'invalid';
}

export interface Plan {
  steps: Step[];
  /** Problems by plugin name; empty when the context may be applied. */
  problems: Map<string, string[]>;
  /** The same problems, with their location apart. */
  issues: PlanIssue[];
  /** Sections that are present but will not be applied, with why. */
  ignored: PluginResult[];
  /** Plugins in plugins= order, known or not, for reporting. */
  enabled: string[];
}

const EMPTY: Section = new Map();

export function stepId(name: string, phase: Phase): string {
  return phase === 'main' ? name : `${name}:${phase}`;
}

export async function planContext(ctx: Context, registry: PluginRegistry, root: string): Promise<Plan> {
  const problems = new Map<string, string[]>();
  const issues: PlanIssue[] = [];
  const ignored: PluginResult[] = [];
  const note = (
    name: string,
    where: { line?: number; section?: string; key?: string },
    reason: string,
    kind: PlanIssue['kind'] = 'invalid',
  ) => {
    problems.set(name, [...(problems.get(name) ?? []), `${formatLocation(where)}: ${reason}`]);
    issues.push({ plugin: name, ...where, reason, kind });
  };
  const pluginsLine = ctx.positions.get('amiconfig')?.keys.get('plugins');

  // Without plugins= every section is a candidate; old amiconfig contexts carry sections
  // (cernvm, ucernvm-begin, ...) for plugins we do not have, and those are just ignored.
  const enabled = ctx.pluginsListed ? [...ctx.plugins] : ctx.plugins.filter((p) => registry.has(p));
  for (const name of ctx.plugins) {
    if (registry.has(name)) continue;
    if (ctx.pluginsListed) {
      note(
        name,
        { line: pluginsLine, section: 'amiconfig', key: 'plugins' },
        `unknown plugin "${name}" (known: ${[...registry.keys()].sort().join(', ')})`,
        'unknown-plugin',
      );
    } else {
      ignored.push({ plugin: name, status: 'disabled', message: 'no such plugin; section ignored' });
    }
  }
  for (const name of ctx.sections.keys()) {
    if (!RESERVED_SECTIONS.has(name) && !ctx.plugins.includes(name)) {
      ignored.push({ plugin: name, status: 'disabled', message: 'section not listed in [amiconfig] plugins' });
    }
  }
  if (!enabled.includes('scripts') && preambleHasCommands(ctx.preamble)) {
    ignored.push({
      plugin: 'scripts',
      phase: 'before',
      status: 'disabled',
      message: 'preamble not run: scripts is not listed in [amiconfig] plugins',
    });
  }

  const steps: Step[] = [];
  for (const name of enabled) {
    const plugin = registry.get(name);
    if (!plugin) continue;
    const section = ctx.sections.get(name) ?? EMPTY;
    for (const p of await validateOne(plugin, section, ctx, root)) {
      const pos = ctx.positions.get(name);
      const line = p.key !== undefined ? (pos?.keys.get(p.key) ?? pos?.line) : pos?.line;
      note(name, { line, section: name, key: p.key }, p.message);
    }
    for (const phase of plugin.phases ?? ['main']) steps.push({ plugin, phase, id: stepId(name, phase), section });
  }
  // Stable sort: phases in order, plugins= order within a phase.
  steps.sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase));
  return { steps, problems, issues, ignored, enabled };
}

async function validateOne(plugin: Plugin, section: Section, context: Context, root: string): Promise<Problem[]> {
  try {
    const out = (await plugin.validate?.(section, { root, context })) ?? [];
    return out.map((p) => (typeof p === 'string' ? { message: p } : p));
  } catch (err) {
    if (err instanceof ContextError) return [{ key: err.key, message: err.reason }];
    return [{ message: `validation failed: ${(err as Error).message}` }];
  }
}
