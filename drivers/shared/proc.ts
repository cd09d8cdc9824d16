/**
 * Process liveness from /proc (Linux). A pid alone is not an identity: after an exit the
 * kernel may hand the same pid to an unrelated process, so we also compare the start time
 * (field 22 of /proc/<pid>/stat, in clock ticks since boot), recorded at spawn.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface ProcStat {
  state: string;
  pgrp: number;
  startTime: string;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) is in parentheses and may itself contain spaces or ')', so split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), rest[2] field 5 (pgrp), rest[19] field 22 (starttime).
  return { state: rest[0] ?? '?', pgrp: Number(rest[2]), startTime: rest[19] ?? '' };
}

const HAS_PROC = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

export function processStartTime(pid: number): string | null {
  return readStat(pid)?.startTime ?? null;
}

export type PidState = 'alive' | 'dead' | 'reused';

/** 'reused' means the pid now belongs to a different process: ours is gone and must not be signalled. */
export function pidState(pid: number, startTime: string | null): PidState {
  if (!HAS_PROC) {
    try {
      process.kill(pid, 0);
      return 'alive';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'dead';
    }
  }
  const st = readStat(pid);
  if (!st) return 'dead';
  if (startTime !== null && st.startTime !== startTime) return 'reused';
  // A zombie has exited; it only waits for its parent to collect the status.
  return st.state === 'Z' || st.state === 'X' ? 'dead' : 'alive';
}

/**
 * True while a live (non-zombie) process is left in the group. Zombies are skipped: once
 * the leader is gone its children are reaped by init, which some containers' init does
 * only every few seconds. The kernel never reuses a pid that is still some group's id.
 */
export function groupExists(pgid: number): boolean {
  if (!HAS_PROC) {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') return true;
  }
  return false;
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * The process group of a live process whose working directory is `dir`, if any (Linux;
 * undefined elsewhere). Guests run in their own directory, so this finds one whose pid was
 * never recorded.
 */
export function groupByCwd(dir: string): number | undefined {
  if (!HAS_PROC) return undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${name}/cwd`);
    } catch {
      continue;
    }
    if (cwd !== dir) continue;
    const st = readStat(Number(name));
    if (st && st.state !== 'Z' && st.state !== 'X') return st.pgrp;
  }
  return undefined;
}
