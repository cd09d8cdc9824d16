/**
 * [scripts] — shell scripts run with /bin/sh (a shebang line is only a comment).
 *
 *   [scripts]
 *   before =
 *       echo "runs before every other plugin"
 *   after =
 *       systemctl restart app
 *   timeout = 600        seconds per script (default: the engine's scriptTimeoutMs)
 *
 * Phase `before` runs the context's preamble (the lines above the first section) and then
 * `before`, ahead of all other plugins; phase `after` runs `after` once they are all done.
 * Scripts get the agent's environment plus [environment] plus CLOUDGATE_ROOT and
 * CLOUDGATE_CONTEXT_VERSION, run in root, and are kept in <root>/var/lib/cloudgate/scripts/
 * for inspection. On re-contextualization a phase re-runs only if its script text changed.
 */
import type { Plugin, PluginContext, PluginOutcome, Problem } from '../plugin.js';
import { preambleHasCommands, textValue, type Section } from '../parse.js';
import { writeAtomic } from '../fsutil.js';
import { runScript } from './run.js';

export const SCRIPT_DIR = '/var/lib/cloudgate/scripts';
const KEYS = ['before', 'after', 'timeout'];

function validateScripts(section: Section): Problem[] {
  const problems: Problem[] = [];
  for (const k of section.keys())
    if (!KEYS.includes(k)) problems.push({ key: k, message: `unknown key (known: ${KEYS.join(', ')})` });
  const t = section.get('timeout');
  if (t !== undefined && !/^[1-9]\d{0,5}$/.test(t))
    problems.push({ key: 'timeout', message: `expected whole seconds from 1 to 999999, got "${t}"` });
  return problems;
}

/** The scripts a phase runs, in order, as [name, text]. */
function scriptsOf(section: Section, phase: string, preamble: string): [string, string][] {
  const list: [string, string][] = [];
  if (phase === 'before' && preambleHasCommands(preamble)) list.push(['preamble', `${preamble}\n`]);
  const text = textValue(section.get(phase) ?? '');
  if (text.trim() !== '') list.push([phase, `${text}\n`]);
  return list;
}

async function runPhase(section: Section, ctx: PluginContext): Promise<PluginOutcome> {
  const scripts = scriptsOf(section, ctx.phase, ctx.context.preamble);
  if (scripts.length === 0) return { changed: false, message: `no ${ctx.phase} script` };
  const timeoutMs = section.has('timeout') ? Number(section.get('timeout')) * 1000 : ctx.scriptTimeoutMs;
  const env = {
    ...process.env,
    ...ctx.env,
    CLOUDGATE_ROOT: ctx.root,
    CLOUDGATE_CONTEXT_VERSION: ctx.version === null ? '' : String(ctx.version),
  };
  const ran: string[] = [];
  for (const [name, text] of scripts) {
    const file = ctx.path(`${SCRIPT_DIR}/${name}.sh`);
    await writeAtomic(file, text, { mode: 0o700 });
    const r = await runScript(file, { cwd: ctx.root, env, timeoutMs });
    ctx.log.info({ script: name, exitCode: r.exitCode, signal: r.signal, ms: r.durationMs }, 'context script finished');
    const detail = {
      script: name,
      exitCode: r.exitCode,
      signal: r.signal,
      durationMs: r.durationMs,
      stderrTail: r.stderrTail,
    };
    if (r.exitCode !== 0) {
      const why = r.timedOut
        ? `timed out after ${timeoutMs} ms`
        : r.signal
          ? `killed by ${r.signal}`
          : `exited ${r.exitCode}`;
      const last = r.stderrTail.slice(-3).join(' | ');
      return { status: 'failed', changed: true, message: `${name} script ${why}${last ? `: ${last}` : ''}`, detail };
    }
    ran.push(`${name} (${r.durationMs} ms)`);
  }
  return { changed: true, message: `ran ${ran.join(', ')}` };
}

export const scriptsPlugin: Plugin = {
  name: 'scripts',
  phases: ['before', 'after'],
  validate: (section) => validateScripts(section),
  apply: (section, ctx) => runPhase(section, ctx),
  fingerprint: (section, phase, context) => scriptsOf(section, phase, context.preamble),
};
