/**
 * Nothing an integration test starts may outlive it. Local instances are detached process
 * groups that survive their cloud agent on purpose, so a test run that is itself killed (a
 * CI timeout, Ctrl-C twice) would leave them all behind. Everything such a test starts
 * runs in its own temp directory (instances) or names a file in it (agents, ejabberd), so
 * that directory identifies them exactly: no process is chosen by its program name.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Pids of live processes working in `dir` or started with a path inside it. */
export function processesOf(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${e}/cwd`);
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cwd.startsWith(`${dir}/`) || cmd.includes(`${dir}/`)) out.push(Number(e));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

/** Kills them, and the process groups they lead. */
export function killProcessesOf(dir: string): number {
  const pids = processesOf(dir);
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* not a group leader */
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return pids.length;
}

/**
 * A tiny shell watchdog: once this process is gone, however it ended, it kills whatever
 * still works in `dir` (the same rule as processesOf, in sh), then removes `dir`. Each process of an instance
 * works in its directory, so killing them one by one needs no process-group syntax (which
 * dash's kill lacks).
 */
export function watchOver(dir: string, o: { remove: boolean }): void {
  // Twice: a cloud agent still alive during the first pass may start one more instance.
  const script = `while kill -0 "$0" 2>/dev/null; do sleep 1; done
for round in 1 2; do
  for p in /proc/[0-9]*; do
    n=\${p#/proc/}
    case "$(readlink "$p/cwd" 2>/dev/null)" in "$1"/*) kill -9 "$n" 2>/dev/null; continue;; esac
    if grep -qF -- "$1/" "$p/cmdline" 2>/dev/null; then kill -9 "$n" 2>/dev/null; fi
  done
  sleep 1
done
[ "$2" = remove ] && rm -rf -- "$1"`;
  const w = spawn('/bin/sh', ['-c', script, String(process.pid), dir, o.remove ? 'remove' : 'keep'], {
    detached: true,
    stdio: 'ignore',
  });
  w.unref();
}
