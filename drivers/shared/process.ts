/**
 * Instances that are local OS processes (the local driver, and libvirt's simulate_guest).
 *
 * Each process is the leader of its own process group (detached), so it outlives a
 * `kill -9` of the cloud agent and a restarted driver can still find it by pid + start
 * time and stop the whole group. A tiny sh wrapper records the exit status in a file,
 * because only the parent can wait() for a child and the parent may be long gone.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { chown, mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { groupByCwd, groupExists, pidState, processStartTime, signalGroup } from './proc.js';

export interface GuestHandle {
  pid: number;
  startTime: string | null;
}
export interface GuestStatus {
  alive: boolean;
  exitCode?: number;
  signal?: string;
}

export const CONSOLE_LOG = 'console.log';
const EXIT_FILE = 'exit-status';

// $1 is the exit file, the rest is the command. `mv` makes the write atomic for readers.
const WRAPPER = 'f=$1; shift; "$@"; s=$?; echo "$s" > "$f.tmp" && mv -f "$f.tmp" "$f"; exit "$s"';

/** Variables the driver sets itself, and anything that smells like a credential of the parent. */
const DROPPED_ENV =
  /^(CLOUDGATE_(CONTEXT_FILE|CONFIG_DRIVE|INSTANCE_ID|ROOT)|AWS_.*)$|SECRET|TOKEN|PASSWORD|PASSPHRASE|CREDENTIAL/i;

function guestEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!DROPPED_ENV.test(k)) env[k] = v;
  return { ...env, ...vars };
}

/**
 * Starts `command` in `dir` with the parent's environment (minus credentials) plus `vars`
 * and CLOUDGATE_ROOT=dir/root, the directory the instance agent applies system changes
 * into. stdout and stderr are appended to dir/console.log. With `user`, the process runs
 * as that uid/gid (the caller is root and has given it `dir`).
 */
export async function spawnGuest(
  dir: string,
  command: readonly string[],
  vars: Record<string, string>,
  user?: { uid: number; gid: number },
): Promise<GuestHandle> {
  const root = join(dir, 'root');
  await mkdir(root, { recursive: true, mode: 0o700 });
  // Another user: `dir` is its own (the caller made it so), and so is root/; HOME too, not ours.
  if (user) await chown(root, user.uid, user.gid);
  const env = guestEnv({ ...vars, CLOUDGATE_ROOT: root, ...(user ? { HOME: dir } : {}) });
  const log = await open(join(dir, CONSOLE_LOG), 'a', 0o600);
  try {
    const child = spawn('/bin/sh', ['-c', WRAPPER, 'cloudgate-guest', join(dir, EXIT_FILE), ...command], {
      cwd: dir,
      env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      // libuv drops supplementary groups (setgroups(0)) before setgid/setuid.
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    // The child must not keep the cloud agent's event loop alive, nor die with it.
    child.unref();
    const pid = child.pid!;
    return { pid, startTime: processStartTime(pid) };
  } finally {
    await log.close();
  }
}

/**
 * A guest started in `dir` whose handle was never saved: its starter was killed between
 * spawning it and recording the pid. Found by its working directory, so it can be adopted
 * or stopped instead of running on as an orphan.
 */
export function findGuest(dir: string): GuestHandle | undefined {
  const pgid = groupByCwd(dir);
  return pgid === undefined ? undefined : { pid: pgid, startTime: processStartTime(pgid) };
}

export async function guestStatus(dir: string, h: GuestHandle): Promise<GuestStatus> {
  if (pidState(h.pid, h.startTime) === 'alive') return { alive: true };
  let text: string;
  try {
    text = await readFile(join(dir, EXIT_FILE), 'utf8');
  } catch {
    return { alive: false }; // killed before the wrapper could write (SIGKILL, or our own SIGTERM)
  }
  const code = Number.parseInt(text.trim(), 10);
  if (!Number.isFinite(code)) return { alive: false };
  // sh reports death by signal N as 128+N.
  if (code > 128) {
    const name = Object.entries(osConstants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name) return { alive: false, exitCode: code, signal: name };
  }
  return { alive: false, exitCode: code };
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** SIGTERM to the group, SIGKILL after `graceMs`. Safe to call on a long-dead handle. */
export async function stopGuest(h: GuestHandle, graceMs: number): Promise<void> {
  const state = pidState(h.pid, h.startTime);
  // Reused pid: our leader is gone and the pid (and any group by that id) belongs to someone else.
  if (state === 'reused') return;
  // Leader gone and no group left: nothing to do. Leader gone but group left: orphans of ours.
  if (state === 'dead' && !groupExists(h.pid)) return;
  signalGroup(h.pid, 'SIGTERM');
  if (await waitUntil(() => !groupExists(h.pid), graceMs)) return;
  signalGroup(h.pid, 'SIGKILL');
  await waitUntil(() => !groupExists(h.pid), 2000);
}

/** For drivers with no record of their own (libvirt simulate_guest): the handle in dir/guest.json. */
export async function saveHandle(dir: string, h: GuestHandle): Promise<void> {
  const file = join(dir, 'guest.json');
  await writeFile(`${file}.tmp`, JSON.stringify(h) + '\n', { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

export async function loadHandle(dir: string): Promise<GuestHandle | undefined> {
  try {
    const h = JSON.parse(await readFile(join(dir, 'guest.json'), 'utf8')) as GuestHandle;
    return Number.isInteger(h.pid) && h.pid > 0 ? h : undefined;
  } catch {
    return undefined;
  }
}
