/**
 * What the gateway checks of a context body before storing it: the same parse and the
 * same built-in plugin validation the instance agent runs before applying (agents/instance/
 * context/plan.ts), so a typo fails at `context put` with its line, section and key, not
 * later on a machine as "context version 1 failed".
 *
 * Errors reject the body. Warnings do not, where the instance may judge otherwise: a plugin
 * the gateway does not know (an operator's own, installed on the image), a section no
 * enabled plugin reads (perhaps an operator plugin's, or a misspelt name), an enabled
 * plugin with no section, and users or groups [files] names that the context does not make
 * (the image may have them).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ContextError,
  loadPlugins,
  parseContext,
  planContext,
  RESERVED_SECTIONS,
  type PluginRegistry,
} from '../instance/context/index.js';
import { ContextRejectedError, type ContextProblem } from './model/index.js';

export type { ContextProblem };

export interface ContextCheck {
  errors: ContextProblem[];
  warnings: ContextProblem[];
}

const where = (p: ContextProblem): string =>
  [
    p.line !== undefined ? `line ${p.line}` : '',
    p.section !== undefined ? `[${p.section}]` : '',
    p.key !== undefined ? `key "${p.key}"` : '',
  ]
    .filter(Boolean)
    .join(' ');

/** One problem as a line of text: `line 5 [users] key "alice": unknown option "x"`. */
export function formatProblem(p: ContextProblem): string {
  const at = where(p);
  return at ? `${at}: ${p.message}` : p.message;
}

export function createContextChecker() {
  let registry: Promise<PluginRegistry> | undefined;
  // Validation may look at the target's files (which users exist); here there is no
  // target, so an empty directory stands for it and such findings become warnings.
  let root: string | undefined;

  async function check(body: string): Promise<ContextCheck> {
    const errors: ContextProblem[] = [];
    const warnings: ContextProblem[] = [];
    let ctx;
    try {
      ctx = parseContext(body);
    } catch (err) {
      if (!(err instanceof ContextError)) throw err;
      errors.push({ line: err.line, section: err.section, key: err.key, message: err.reason });
      return { errors, warnings };
    }
    const cg = ctx.positions.get('cloudgate');
    if (ctx.sections.has('cloudgate'))
      errors.push({
        line: cg?.line,
        section: 'cloudgate',
        message: 'this section is written by the cloud agent; remove it from the context',
      });

    registry ??= loadPlugins();
    root ??= mkdtempSync(join(tmpdir(), 'cloudgate-check-'));
    const reg = await registry;
    const plan = await planContext(ctx, reg, root);
    for (const i of plan.issues) {
      const p: ContextProblem = { plugin: i.plugin, line: i.line, section: i.section, key: i.key, message: i.reason };
      const onImage = i.kind === 'unknown-plugin' || (i.plugin === 'files' && /^unknown (user|group) "/.test(i.reason));
      (onImage ? warnings : errors).push(
        onImage && i.kind === 'unknown-plugin'
          ? { ...p, message: `${p.message}; fine if the image has it as an operator plugin` }
          : p,
      );
    }
    for (const name of ctx.sections.keys()) {
      if (RESERVED_SECTIONS.has(name) || plan.enabled.includes(name)) continue;
      const line = ctx.positions.get(name)?.line;
      const why = ctx.pluginsListed
        ? 'not listed in [amiconfig] plugins'
        : `no plugin "${name}" (known: ${[...reg.keys()].sort().join(', ')})`;
      warnings.push({ plugin: name, line, section: name, message: `section not applied: ${why}` });
    }
    for (const name of plan.enabled) {
      if (reg.has(name) && !ctx.sections.has(name)) {
        const line = ctx.positions.get('amiconfig')?.keys.get('plugins');
        warnings.push({
          plugin: name,
          line,
          section: 'amiconfig',
          key: 'plugins',
          message: `plugin "${name}" is enabled but the context has no [${name}] section`,
        });
      }
    }
    const byLine = (a: ContextProblem, b: ContextProblem) => (a.line ?? 0) - (b.line ?? 0);
    return { errors: errors.sort(byLine), warnings: warnings.sort(byLine) };
  }

  return {
    check,
    /** The warnings of a body that may be stored; a ContextRejectedError naming every error otherwise. */
    async accept(body: string): Promise<ContextProblem[]> {
      const r = await check(body);
      if (r.errors.length) throw new ContextRejectedError(r.errors, formatProblem);
      return r.warnings;
    },
  };
}

export type ContextChecker = ReturnType<typeof createContextChecker>;
