/**
 * A line-oriented INI reader for core/config.ts and the cluster parser.
 *
 * Why not the `ini` package's decode: it nests dotted section names (`[flavor.small]`
 * becomes `flavor.small` inside `flavor`), cuts values at `;` and `#` (passwords and shell
 * commands contain both), drops malformed lines and repeated keys without a word, and
 * keeps no line numbers. Configuration errors must name the line, so we read it ourselves:
 *
 * - `[name]` opens a section; the name is kept verbatim, dots included.
 * - `key = value`; the value is trimmed, and one pair of matching surrounding quotes is
 *   removed so leading/trailing blanks can be expressed.
 * - `;` or `#` starts a comment only as the first non-blank character of a line.
 * - Lines before the first section are a preamble (amiconfig contexts carry a shell
 *   preamble there); `preamble: 'error'` reports them instead.
 */

export interface IniEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}
export interface IniSection {
  readonly name: string;
  readonly line: number;
  readonly entries: readonly IniEntry[];
}
export interface IniDocument {
  readonly preamble: readonly string[];
  readonly sections: readonly IniSection[];
}
/** A syntax problem; `section`/`key` are set when the line belongs to one. */
export interface IniProblem {
  readonly line: number;
  readonly section?: string;
  readonly key?: string;
  readonly message: string;
}

export interface ReadIniOptions {
  /** What to do with non-blank, non-comment lines before the first section. Default 'error'. */
  preamble?: 'error' | 'keep';
}

const SECTION = /^\[([^\]]*)\]\s*(?:[;#].*)?$/;

export function readIni(text: string, opts: ReadIniOptions = {}): { doc: IniDocument; problems: IniProblem[] } {
  const problems: IniProblem[] = [];
  const preamble: string[] = [];
  const sections: { name: string; line: number; entries: IniEntry[] }[] = [];
  const seenSections = new Map<string, number>();
  let current: { name: string; line: number; entries: IniEntry[]; keys: Map<string, number> } | undefined;

  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (current === undefined && !SECTION.test(trimmed)) {
      if (opts.preamble === 'keep') {
        preamble.push(raw);
        return;
      }
      if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return;
      problems.push({ line, message: 'line outside any [section]' });
      return;
    }
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return;

    const sec = SECTION.exec(trimmed);
    if (sec) {
      const name = sec[1]!.trim();
      if (name === '') {
        problems.push({ line, message: 'empty section name' });
      }
      const first = seenSections.get(name);
      if (first !== undefined) {
        problems.push({ line, section: name, message: `duplicate section (first on line ${first})` });
      } else {
        seenSections.set(name, line);
      }
      current = { name, line, entries: [], keys: new Map() };
      // A duplicate section is still read (and its keys checked) but not returned.
      if (first === undefined && name !== '') sections.push(current);
      return;
    }

    const eq = trimmed.indexOf('=');
    if (eq < 0) {
      problems.push({ line, section: current!.name, message: `expected 'key = value', got '${clip(trimmed)}'` });
      return;
    }
    const key = trimmed.slice(0, eq).trim();
    if (key === '') {
      problems.push({ line, section: current!.name, message: 'missing key before =' });
      return;
    }
    const firstKey = current!.keys.get(key);
    if (firstKey !== undefined) {
      problems.push({ line, section: current!.name, key, message: `duplicate key (first on line ${firstKey})` });
      return;
    }
    current!.keys.set(key, line);
    current!.entries.push({ key, value: unquote(trimmed.slice(eq + 1).trim()), line });
  });

  return { doc: { preamble, sections }, problems };
}

function unquote(v: string): string {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) return v.slice(1, -1);
  return v;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
