/**
 * Adjusting INI files written by someone else's writer (the demo's, for instance): set a
 * key in a section, replacing its line or adding one right under the section header, so
 * a test reuses the writer and changes only the numbers it cares about.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export type IniChanges = Record<string, Record<string, string | number>>;

export function setIniKeys(text: string, changes: IniChanges): string {
  const lines = text.split('\n');
  for (const [section, keys] of Object.entries(changes)) {
    const start = lines.findIndex((l) => l.trim() === `[${section}]`);
    if (start < 0) {
      lines.push('', `[${section}]`, ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`));
      continue;
    }
    let end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
    if (end < 0) end = lines.length;
    for (const [key, value] of Object.entries(keys)) {
      const at = lines.findIndex(
        (l, i) => i > start && i < end && new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`).test(l),
      );
      if (at >= 0) lines[at] = `${key} = ${value}`;
      else {
        lines.splice(start + 1, 0, `${key} = ${value}`);
        end++;
      }
    }
  }
  return lines.join('\n');
}

/** Rewrites `file` in place (keeping its mode). */
export function editIniFile(file: string, changes: IniChanges): void {
  writeFileSync(file, setIniKeys(readFileSync(file, 'utf8'), changes));
}
