/**
 * [environment] — variables for login shells and for the context's scripts.
 *
 *   [environment]
 *   JAVA_HOME = /usr/lib/jvm/default
 *   GREETING = it's "quoted" safely
 *
 * Written to <root>/etc/profile.d/cloudgate-context.sh as single-quoted `export`s (the file
 * is rewritten whole, so a variable dropped from the context disappears from it). The
 * engine also hands the variables to `scripts` and returns them to the caller.
 */
import type { Plugin, Problem } from '../plugin.js';
import { textValue, type Section } from '../parse.js';
import { sameFile, writeAtomic } from '../fsutil.js';

export const ENVIRONMENT_FILE = '/etc/profile.d/cloudgate-context.sh';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Set by the engine for scripts; a context may not override them. */
export const RESERVED_VARIABLES: readonly string[] = ['CLOUDGATE_ROOT', 'CLOUDGATE_CONTEXT_VERSION'];

/** POSIX sh single quoting: everything literal, a quote becomes '\'' . */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export function environmentOf(section: Section | undefined): Record<string, string> {
  return Object.fromEntries([...(section ?? [])].map(([k, v]) => [k, textValue(v)]));
}

export function renderEnvironment(section: Section): string {
  const lines = ["# Written by cloudgate from the context's [environment] section; edits are overwritten."];
  for (const [k, v] of Object.entries(environmentOf(section))) lines.push(`export ${k}=${shellQuote(v)}`);
  return `${lines.join('\n')}\n`;
}

function validateEnvironment(section: Section): Problem[] {
  const problems: Problem[] = [];
  for (const k of section.keys()) {
    if (!NAME.test(k))
      problems.push({ key: k, message: 'not a valid variable name (letters, digits, _; not starting with a digit)' });
    else if (RESERVED_VARIABLES.includes(k))
      problems.push({ key: k, message: 'reserved: set by cloudgate for scripts' });
  }
  return problems;
}

export const environmentPlugin: Plugin = {
  name: 'environment',
  validate: (section) => validateEnvironment(section),
  async apply(section, ctx) {
    const path = ctx.path(ENVIRONMENT_FILE);
    const text = renderEnvironment(section);
    const names = [...section.keys()];
    if (await sameFile(path, text, { mode: 0o644 })) {
      return { changed: false, message: `${names.length} variable(s) already set`, detail: { variables: names } };
    }
    await writeAtomic(path, text, { mode: 0o644 });
    return {
      changed: true,
      message: `${names.length} variable(s) written to ${ENVIRONMENT_FILE}`,
      detail: { variables: names },
    };
  },
};
