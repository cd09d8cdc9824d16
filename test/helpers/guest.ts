/**
 * A stand-in for the instance agent in driver tests: it records what it was given
 * (context file, config drive, environment) in $CLOUDGATE_ROOT/seen.json, then behaves
 * as the first argument says: sleep (default), exit0, exit3, or stubborn (ignores SIGTERM).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SCRIPT = `
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
const read = (p) => { try { return readFileSync(p, 'utf8'); } catch { return null; } };
const env = process.env;
const seen = {
  context: env.CLOUDGATE_CONTEXT_FILE ? read(env.CLOUDGATE_CONTEXT_FILE) : null,
  drive: env.CLOUDGATE_CONFIG_DRIVE ? read(env.CLOUDGATE_CONFIG_DRIVE + '/user-data') : null,
  contextFile: env.CLOUDGATE_CONTEXT_FILE ?? null,
  configDrive: env.CLOUDGATE_CONFIG_DRIVE ?? null,
  instanceId: env.CLOUDGATE_INSTANCE_ID ?? null,
  root: env.CLOUDGATE_ROOT ?? null,
  pid: process.pid,
  pgid: Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[2]),
  leakedSecret: env.AWS_SECRET_ACCESS_KEY ?? null,
};
writeFileSync(env.CLOUDGATE_ROOT + '/seen.json.tmp', JSON.stringify(seen));
renameSync(env.CLOUDGATE_ROOT + '/seen.json.tmp', env.CLOUDGATE_ROOT + '/seen.json');
const mode = process.argv[2] ?? 'sleep';
if (mode === 'exit0') process.exit(0);
if (mode === 'exit3') process.exit(3);
if (mode === 'stubborn') process.on('SIGTERM', () => {});
setInterval(() => {}, 60_000);
`;

export interface Seen {
  context: string | null;
  drive: string | null;
  contextFile: string | null;
  configDrive: string | null;
  instanceId: string | null;
  root: string | null;
  pid: number;
  pgid: number;
  leakedSecret: string | null;
}

/** Writes the script into dir and returns a `command` option value running it in `mode`. */
export function guestCommand(dir: string, mode: 'sleep' | 'exit0' | 'exit3' | 'stubborn' = 'sleep'): string {
  const file = join(dir, 'guest.mjs');
  writeFileSync(file, SCRIPT);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `${q(process.execPath)} ${q(file)} ${mode}`;
}

/** Alive and not a zombie: a reparented child may wait a while for init to reap it. */
export function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
