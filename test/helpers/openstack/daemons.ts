/**
 * The test cloud's processes: each daemon in its own process group (setsid), so that
 * stopping it takes its workers (uwsgi, rabbitmq's beam under su) along; one-shot commands
 * whose failure names the command and its last output lines. Every child gets Debian's
 * PATH: the services need /usr/bin/python3, not a python3 of a virtualenv or pyenv.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export function systemEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: SYSTEM_PATH,
    LANG: 'C.UTF-8',
    HOME: process.env.HOME ?? '/root',
    ...extra,
  };
}

/** Runs a command to its end; rejects with its last output lines when it fails. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { env: systemEnv(opts.env), timeout: opts.timeoutMs ?? 300_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const tail = `${stderr}\n${stdout}`.trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${tail || err.message}`));
      },
    );
    if (opts.input !== undefined) {
      // A command that exits before reading its input (a client polling a database that is
      // not up yet) closes the pipe: the write's EPIPE would end this process unhandled,
      // while the command's own failure is already reported above.
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
  });
}

export class Daemons {
  private readonly groups = new Map<string, number>();
  private readonly onExit = () => this.killAll();

  /**
   * `env` is added to every daemon's environment. `marker` (the cloud's directory) finds the
   * processes that left our process groups: su starts RabbitMQ's node in a group of its own
   * and epmd daemonizes, but their environments still name the cloud's directory.
   */
  constructor(
    private readonly logDir: string,
    private readonly env: Record<string, string> = {},
    private readonly marker?: string,
  ) {
    process.on('exit', this.onExit);
  }

  /** Starts `name` in its own process group, output appended to log/<name>.out. */
  start(name: string, cmd: string, args: string[], env: Record<string, string> = {}): number {
    const out = openSync(join(this.logDir, `${name}.out`), 'a');
    try {
      const child = spawn(cmd, args, {
        detached: true,
        stdio: ['ignore', out, out],
        env: systemEnv({ ...this.env, ...env }),
      });
      child.unref();
      child.on('error', () => undefined);
      if (!child.pid) throw new Error(`could not start ${name} (${cmd})`);
      this.groups.set(name, child.pid);
      return child.pid;
    } finally {
      closeSync(out);
    }
  }

  alive(name: string): boolean {
    const pid = this.groups.get(name);
    if (!pid) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGTERM to each group, SIGKILL to what is left after `graceMs`. */
  async stop(names: string[] = [...this.groups.keys()], graceMs = 10_000): Promise<void> {
    const pids = names.flatMap((n) => {
      const pid = this.groups.get(n);
      this.groups.delete(n);
      return pid ? [pid] : [];
    });
    for (const pid of pids) signal(pid, 'SIGTERM');
    const end = Date.now() + graceMs;
    while (pids.some(groupAlive) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    for (const pid of pids) signal(pid, 'SIGKILL');
    if (this.groups.size === 0) {
      this.killStrays();
      process.removeListener('exit', this.onExit);
    }
  }

  /** SIGKILL to every other process whose environment names the marker (synchronous). */
  killStrays(): void {
    if (!this.marker) return;
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      let env: string;
      try {
        env = readFileSync(`/proc/${name}/environ`, 'latin1');
      } catch {
        continue; // gone, or not ours to read
      }
      if (!env.includes(this.marker)) continue;
      try {
        process.kill(Number(name), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Synchronous, for the process 'exit' hook: a test run that dies leaves no cloud behind. */
  killAll(): void {
    for (const pid of this.groups.values()) signal(pid, 'SIGKILL');
    this.groups.clear();
    this.killStrays();
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 250 ms until it is true, or fails naming `what`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function httpAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}
