/**
 * Plugin lookup: the built-ins plus operator plugins loaded from directories of .js/.mjs
 * modules. A module exports `{ name, validate?, apply, phases?, fingerprint? }`, either as
 * its default export or as named exports. Name clashes are errors: an operator plugin
 * that silently replaced `users` would change what every context means.
 */
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ContextError } from './errors.js';
import { RESERVED_SECTIONS } from './parse.js';
import { PHASES, type Plugin } from './plugin.js';
import { usersPlugin } from './plugins/users.js';
import { groupsPlugin } from './plugins/groups.js';
import { environmentPlugin } from './plugins/environment.js';
import { filesPlugin } from './plugins/files.js';
import { scriptsPlugin } from './plugins/scripts.js';
import { hostnamePlugin } from './plugins/hostname.js';

export const BUILTIN_PLUGINS: readonly Plugin[] = [
  groupsPlugin,
  usersPlugin,
  environmentPlugin,
  filesPlugin,
  scriptsPlugin,
  hostnamePlugin,
];

export type PluginRegistry = ReadonlyMap<string, Plugin>;

const NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * Built-ins + `extra` (in-process plugins, e.g. from the agent) + every module in `dirs`
 * (sorted by file name). Throws ContextError CG_CONTEXT_PLUGIN_LOAD / _CONFLICT.
 */
export async function loadPlugins(
  dirs: readonly string[] = [],
  extra: readonly Plugin[] = [],
): Promise<PluginRegistry> {
  const reg = new Map<string, { plugin: Plugin; from: string }>();
  const add = (plugin: Plugin, from: string) => {
    const clash = reg.get(plugin.name);
    if (clash) {
      throw new ContextError(
        'CG_CONTEXT_PLUGIN_CONFLICT',
        `plugin "${plugin.name}" from ${from} clashes with the one from ${clash.from}`,
      );
    }
    reg.set(plugin.name, { plugin, from });
  };
  for (const p of BUILTIN_PLUGINS) add(p, 'built-in');
  for (const p of extra) add(checkShape(p, 'options.plugins'), 'options.plugins');
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await fs.readdir(dir)).filter((n) => n.endsWith('.js') || n.endsWith('.mjs')).sort();
    } catch (err) {
      throw new ContextError(
        'CG_CONTEXT_PLUGIN_LOAD',
        `cannot read plugin directory ${dir}: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    }
    for (const n of names) {
      const file = resolve(join(dir, n));
      let mod: Record<string, unknown>;
      try {
        mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      } catch (err) {
        throw new ContextError(
          'CG_CONTEXT_PLUGIN_LOAD',
          `cannot load plugin module ${file}: ${(err as Error).message}`,
          {},
          { cause: err },
        );
      }
      const def = mod.default as Record<string, unknown> | undefined;
      const candidate = def && typeof def === 'object' && 'apply' in def ? def : mod;
      add(checkShape(candidate, file), file);
    }
  }
  return new Map([...reg].map(([k, v]) => [k, v.plugin]));
}

function checkShape(p: unknown, from: string): Plugin {
  const bad = (why: string): never => {
    throw new ContextError('CG_CONTEXT_PLUGIN_LOAD', `plugin module ${from}: ${why}`);
  };
  const o = p as Record<string, unknown>;
  if (typeof o?.name !== 'string' || !NAME.test(o.name))
    bad('must export a lower-case `name` (letters, digits, _ and -)');
  if (RESERVED_SECTIONS.has(o.name as string)) bad(`"${o.name}" is reserved, not a plugin`);
  if (typeof o.apply !== 'function') bad('must export an `apply(section, ctx)` function');
  for (const f of ['validate', 'fingerprint'])
    if (o[f] !== undefined && typeof o[f] !== 'function') bad(`\`${f}\` must be a function`);
  if (
    o.phases !== undefined &&
    (!Array.isArray(o.phases) || o.phases.length === 0 || !o.phases.every((x) => PHASES.includes(x)))
  ) {
    bad(`\`phases\` must be a non-empty list of ${PHASES.join(', ')}`);
  }
  // Modules are namespace objects; copy into a plain Plugin so nothing else leaks in.
  return {
    name: o.name as string,
    phases: o.phases as Plugin['phases'],
    validate: o.validate as Plugin['validate'],
    apply: o.apply as Plugin['apply'],
    fingerprint: o.fingerprint as Plugin['fingerprint'],
  };
}
