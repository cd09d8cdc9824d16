/** The program each simulated instance runs: the `command` option, or the instance agent. */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OptionReader } from './options.js';
import { splitCommand } from './shell.js';

/** This file is dist/drivers/shared/command.js once compiled, so the repository is three levels up. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function defaultCommand(): string[] {
  // process.execPath rather than "node": the instance runs with the same Node as the cloud agent.
  return [process.execPath, join(REPO_ROOT, 'dist', 'agents', 'instance', 'main.js')];
}

export function readCommand(r: OptionReader): string[] {
  const line = r.string('command');
  if (line === undefined) return defaultCommand();
  let words: string[];
  try {
    words = splitCommand(line);
  } catch (err) {
    r.invalid('command', `cannot be split into words: ${(err as Error).message}`);
  }
  if (words.length === 0) r.invalid('command', 'is empty');
  // Checked now so a typo fails at start-up, not as a dead instance per create().
  if (!findExecutable(words[0]!))
    r.invalid('command', `names a program that is not executable or not on PATH: "${words[0]}"`);
  return words;
}

export function findExecutable(program: string, path = process.env.PATH ?? ''): string | undefined {
  // A name with a slash is a path (as execvp treats it); otherwise only absolute PATH entries count.
  const candidates = program.includes('/')
    ? [program]
    : path
        .split(delimiter)
        .filter((d) => isAbsolute(d))
        .map((d) => join(d, program));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here; try the next PATH entry
    }
  }
  return undefined;
}
