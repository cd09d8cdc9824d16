/**
 * amiconfig-style INI, as CernVM Online wrote it into user-data:
 *
 *   #!/bin/sh                     <- preamble: every line before the first header, kept
 *   echo "[not a header]" a=b        verbatim and never parsed (it is run by `scripts`)
 *   [amiconfig]
 *   plugins = users files scripts <- order of application; space and/or comma separated
 *   [files]
 *   /etc/motd = mode:0644
 *       Welcome.                  <- continuation: indented lines append to the value
 *
 * Rules, and why:
 * - A header is `[name]` at column 0 with no blanks inside, so shell tests such as
 *   `[ -f /etc/x ] && ...` in the preamble are never taken for one. Names are
 *   case-insensitive (stored lower-case); a section may appear once.
 * - `key = value`, split at the first '='. Keys keep their case (environment variable
 *   names and file paths are case-sensitive) and may appear once per section.
 * - Comment lines start with '#' or ';' at column 0. Indented '#' lines belong to the
 *   value above, because scripts and files carry shell comments and shebangs.
 * - Continuation lines are indented; their common indentation is removed and they are
 *   joined with '\n', so relative indentation (YAML, Python, heredocs) survives. Blank
 *   lines inside a value are kept when more continuation lines follow; trailing ones are
 *   dropped. As in Python's ConfigParser (which amiconfig used), the text after '=' is the
 *   first line even when empty, so `key =` followed by continuations gives "\nline1\n...":
 *   `files` relies on that to tell its option line from the content. `textValue()`
 *   drops that leading newline for plugins that want plain text.
 * - A document without any section is not a context (it may be cloud-init YAML, which
 *   must never be run as a shell preamble).
 */
import { ContextError } from './errors.js';
import { parseCloudgate, type CloudgateSection } from './cloudgate.js';
import type { Section, SectionPosition } from './section.js';

export { textValue, type Section, type SectionPosition } from './section.js';

export interface Context {
  /** Lines before the first section header, verbatim (CRLF normalized to LF). */
  readonly preamble: string;
  /** Plugins to apply, lower-case, in order. */
  readonly plugins: readonly string[];
  /**
   * True when [amiconfig] plugins= named them. Otherwise `plugins` is every section that
   * is not amiconfig/cloudgate, in document order, plus `scripts` when the preamble has
   * commands.
   */
  readonly pluginsListed: boolean;
  /** Every section, amiconfig and cloudgate included, keyed by lower-case name. */
  readonly sections: ReadonlyMap<string, Section>;
  readonly positions: ReadonlyMap<string, SectionPosition>;
  /** Present when the document has a [cloudgate] section. */
  readonly cloudgate?: CloudgateSection;
  readonly raw: string;
}

/** Sections that configure the machinery, not plugins. */
export const RESERVED_SECTIONS: ReadonlySet<string> = new Set(['amiconfig', 'cloudgate']);

const HEADER = /^\[([A-Za-z0-9_.-]+)\][ \t]*(?:[#;].*)?$/;
const PLUGIN_NAME = /^[a-z0-9][a-z0-9_-]*$/;

interface Pending {
  key: string;
  line: number;
  first: string;
  cont: string[];
  blanks: number;
}
interface Building {
  name: string;
  line: number;
  values: Map<string, string>;
  keys: Map<string, number>;
}

export function parseContext(text: string): Context {
  const raw = text;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstHeader = lines.findIndex((l) => HEADER.test(l));
  if (firstHeader < 0)
    throw new ContextError('CG_CONTEXT_SYNTAX', 'no [section] header found: not an amiconfig context');
  const preamble = lines.slice(0, firstHeader).join('\n');

  const built: Building[] = [];
  let current: Building | undefined;
  let pending: Pending | undefined;

  const finish = (): void => {
    if (pending && current) current.values.set(pending.key, joinValue(pending));
    pending = undefined;
  };

  for (let i = firstHeader; i < lines.length; i++) {
    const line = lines[i];
    const lineNo = i + 1;
    const where = { line: lineNo, section: current?.name };
    if (line.trim() === '') {
      if (pending) pending.blanks++;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (pending) {
        for (; pending.blanks > 0; pending.blanks--) pending.cont.push('');
        pending.cont.push(line);
        continue;
      }
      if (/^\s*[#;]/.test(line)) continue;
      throw new ContextError('CG_CONTEXT_SYNTAX', 'indented line with no key above it to continue', where);
    }
    if (line.startsWith('#') || line.startsWith(';')) continue;
    finish();

    const header = HEADER.exec(line);
    if (header) {
      const name = header[1].toLowerCase();
      const dup = built.find((s) => s.name === name);
      if (dup)
        throw new ContextError('CG_CONTEXT_DUPLICATE', `section [${name}] already started at line ${dup.line}`, {
          line: lineNo,
          section: name,
        });
      current = { name, line: lineNo, values: new Map(), keys: new Map() };
      built.push(current);
      continue;
    }
    if (line.startsWith('[')) {
      throw new ContextError(
        'CG_CONTEXT_SYNTAX',
        `malformed section header ${JSON.stringify(line.trim())} (expected [name] with letters, digits, '_', '-', '.')`,
        where,
      );
    }
    const eq = line.indexOf('=');
    // The line itself is not quoted back: it may be a wrapped secret (a token) and errors get logged and sent.
    if (eq < 0)
      throw new ContextError('CG_CONTEXT_SYNTAX', 'expected "key = value" (or an indented continuation line)', where);
    const key = line.slice(0, eq).trim();
    if (!key) throw new ContextError('CG_CONTEXT_SYNTAX', 'empty key before "="', where);
    // current is always set here: parsing starts at the first header.
    const section = current as Building;
    const seen = section.keys.get(key);
    if (seen !== undefined) {
      throw new ContextError('CG_CONTEXT_DUPLICATE', `duplicate key (first set at line ${seen})`, {
        line: lineNo,
        section: section.name,
        key,
      });
    }
    section.keys.set(key, lineNo);
    pending = { key, line: lineNo, first: line.slice(eq + 1).trim(), cont: [], blanks: 0 };
  }
  finish();

  const sections = new Map<string, Section>(built.map((s) => [s.name, s.values]));
  const positions = new Map<string, SectionPosition>(built.map((s) => [s.name, { line: s.line, keys: s.keys }]));
  const { plugins, pluginsListed } = readPlugins(sections, positions, preamble);
  const cg = sections.get('cloudgate');
  const cloudgate = cg ? parseCloudgate(cg, positions.get('cloudgate') as SectionPosition) : undefined;
  return { preamble, plugins, pluginsListed, sections, positions, cloudgate, raw };
}

/** True when `text` has at least one section header: cheap test that data is a context at all. */
export function looksLikeContext(text: string): boolean {
  return text.split(/\r?\n/).some((l) => HEADER.test(l));
}

/** True when the preamble holds something other than blank lines and comments (a shebang is a comment). */
export function preambleHasCommands(preamble: string): boolean {
  return preamble.split('\n').some((l) => {
    const t = l.trim();
    return t !== '' && !t.startsWith('#');
  });
}

function joinValue(p: Pending): string {
  return [p.first, ...dedent(p.cont)].join('\n');
}

/** Remove the whitespace prefix common to all non-blank lines (tabs and spaces compared literally). */
function dedent(lines: string[]): string[] {
  let prefix: string | undefined;
  for (const l of lines) {
    if (l.trim() === '') continue;
    const ws = /^[ \t]*/.exec(l)![0];
    if (prefix === undefined) {
      prefix = ws;
      continue;
    }
    let n = 0;
    while (n < prefix.length && n < ws.length && prefix[n] === ws[n]) n++;
    prefix = prefix.slice(0, n);
  }
  const cut = prefix?.length ?? 0;
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(cut)));
}

function readPlugins(
  sections: ReadonlyMap<string, Section>,
  positions: ReadonlyMap<string, SectionPosition>,
  preamble: string,
): { plugins: string[]; pluginsListed: boolean } {
  const listed = sections.get('amiconfig')?.get('plugins');
  if (listed === undefined) {
    const plugins = [...sections.keys()].filter((n) => !RESERVED_SECTIONS.has(n));
    if (!plugins.includes('scripts') && preambleHasCommands(preamble)) plugins.push('scripts');
    return { plugins, pluginsListed: false };
  }
  const where = { line: positions.get('amiconfig')?.keys.get('plugins'), section: 'amiconfig', key: 'plugins' };
  const plugins: string[] = [];
  for (const word of listed.split(/[\s,]+/).filter(Boolean)) {
    const name = word.toLowerCase();
    if (!PLUGIN_NAME.test(name))
      throw new ContextError('CG_CONTEXT_INVALID', `bad plugin name ${JSON.stringify(word)}`, where);
    if (RESERVED_SECTIONS.has(name))
      throw new ContextError('CG_CONTEXT_INVALID', `[${name}] is not a plugin and cannot be listed`, where);
    if (plugins.includes(name)) throw new ContextError('CG_CONTEXT_DUPLICATE', `plugin "${name}" listed twice`, where);
    plugins.push(name);
  }
  return { plugins, pluginsListed: true };
}
