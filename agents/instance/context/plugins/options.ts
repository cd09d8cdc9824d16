/**
 * The small option language used by users, groups and files values:
 *   uid:1001 groups:wheel,docker comment:"Alice Smith" locked
 * Options are `name:value`; double quotes let a value hold blanks; bare words are flags.
 */

export interface Options {
  values: Map<string, string>;
  flags: Set<string>;
  positional: string[];
}

/**
 * Parse `text`; returns a message when it is malformed or names an option not in
 * `known`/`flags`. Words for which `positional` is true (e.g. URLs) are passed through.
 */
export function parseOptions(
  text: string,
  known: readonly string[],
  flags: readonly string[] = [],
  positional: (word: string) => boolean = () => false,
): Options | string {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      inWord = true;
      continue;
    }
    if (!quoted && /\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += ch;
    inWord = true;
  }
  if (quoted) return 'unterminated double quote';
  if (inWord) words.push(cur);

  const out: Options = { values: new Map(), flags: new Set(), positional: [] };
  for (const w of words) {
    if (positional(w)) {
      out.positional.push(w);
      continue;
    }
    const colon = w.indexOf(':');
    if (colon < 0) {
      if (!flags.includes(w))
        return `unknown option "${w}" (options: ${[...known.map((k) => `${k}:`), ...flags].join(' ')})`;
      out.flags.add(w);
      continue;
    }
    const name = w.slice(0, colon);
    if (!known.includes(name))
      return `unknown option "${name}:" (options: ${[...known.map((k) => `${k}:`), ...flags].join(' ')})`;
    if (out.values.has(name)) return `option "${name}:" given twice`;
    out.values.set(name, w.slice(colon + 1));
  }
  return out;
}

export const ID = /^\d{1,10}$/;
/** Debian's NAME_REGEX, relaxed to allow upper case and dots (as shadow-utils do on RHEL). */
export const ACCOUNT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
export const MAX_ID = 2 ** 31 - 2;

export function parseId(text: string, what: string): number | string {
  if (!ID.test(text) || Number(text) > MAX_ID) return `${what} must be a number from 0 to ${MAX_ID}, got "${text}"`;
  return Number(text);
}
