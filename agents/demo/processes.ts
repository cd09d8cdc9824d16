/**
 * The agents the demo runs, each its own OS process (`cloudgate agent <kind> --config`)
 * with its output in a log file. Each gets its own process group: Ctrl-C in the terminal
 * reaches only the demo, which then stops them in order (clients before servers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();
let hooked = false;

/** Whatever ends the demo, no agent outlives it. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) signal(c.pid, 'SIGKILL');
  });
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    /* gone */
  }
}

export interface AgentProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<string>;
  readonly running: boolean;
  stop(graceMs?: number): Promise<void>;
  logTail(lines?: number): string;
}

export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function spawnAgent(
  name: string,
  command: readonly string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): AgentProcess {
  hookExit();
  const out = openSync(logFile, 'a');
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', out, out], detached: true, env });
  closeSync(out);
  live.add(child);
  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, sig) => {
      running = false;
      live.delete(child);
      resolve(sig ? `signal ${sig}` : `code ${code}`);
    });
    child.once('error', (err) => {
      running = false;
      live.delete(child);
      resolve(`error ${err.message}`);
    });
  });
  return {
    name,
    logFile,
    pid: child.pid ?? 0,
    exited,
    get running() {
      return running;
    },
    async stop(graceMs = 10_000) {
      if (!running) return;
      signal(child.pid, 'SIGTERM');
      const t = setTimeout(() => signal(child.pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
    logTail: (n) => logTail(logFile, n),
  };
}
