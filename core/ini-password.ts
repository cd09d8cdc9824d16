/**
 * Puts an account's password into the [xmpp] section of an agent's (or a client's) INI
 * file, in place of whatever login it had (password, token or jwt_key), and makes the
 * file private first. The rest of the file, comments included, is kept as it was.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { readIni, type IniSection } from './config-ini.js';
import { ConfigError } from './errors.js';

const LOGIN_KEYS = new Set(['password', 'token', 'jwt_key']);

function xmppSection(file: string, text: string): IniSection {
  const { doc, problems } = readIni(text, { preamble: 'error' });
  const p = problems[0];
  if (p) throw new ConfigError(`${file}:${p.line} ${p.message}`);
  const sec = doc.sections.find((s) => s.name === 'xmpp');
  if (!sec) throw new ConfigError(`${file}: no [xmpp] section (it names the account: jid = user@domain)`);
  return sec;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { cause: err },
    );
  }
}

/** The account the file logs in as: its [xmpp] jid, split. */
export function iniAccount(file: string): { user: string; domain: string } {
  const sec = xmppSection(file, read(file));
  const get = (k: string) => sec.entries.find((e) => e.key === k);
  if (get('mode')?.value === 'component')
    throw new ConfigError(`${file} [xmpp] mode: a component logs in with its component secret, not an account`);
  const jid = get('jid');
  if (!jid) throw new ConfigError(`${file} [xmpp] jid: required (user@domain)`);
  const m = /^([^@/\s]+)@([^@/\s]+)$/.exec(jid.value);
  if (!m) throw new ConfigError(`${file}:${jid.line} [xmpp] jid: expected a bare user@domain, got '${jid.value}'`);
  return { user: m[1]!, domain: m[2]! };
}

/** Writes `password = …` under the [xmpp] jid, removing the section's other logins. */
export function writeIniPassword(file: string, password: string): void {
  if (!/^[\w.~+/=-]+$/.test(password))
    throw new ConfigError('a generated password must be plain characters (no blanks, quotes or comment marks)');
  const text = read(file);
  const sec = xmppSection(file, text);
  const drop = new Set(sec.entries.filter((e) => LOGIN_KEYS.has(e.key)).map((e) => e.line));
  const after = sec.entries.find((e) => e.key === 'jid')?.line ?? sec.line;
  const out: string[] = [];
  text.split('\n').forEach((l, i) => {
    if (!drop.has(i + 1)) out.push(l);
    if (i + 1 === after) out.push(`password = ${password}`);
  });
  chmodSync(file, 0o600);
  writeFileSync(file, out.join('\n'), { mode: 0o600 });
}
