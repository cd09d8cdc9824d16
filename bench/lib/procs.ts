/**
 * Agents a benchmark runs as their own OS processes (`cloudgate agent <kind> --config f`),
 * as in production: each in its own process group with its output in a log file, stopped
 * with SIGTERM (SIGKILL after a grace period), and killed if this process exits first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { processCpuS, processMemory, type Rss } from './proc.js';

export interface AgentProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly running: boolean;
  /** Resolves with how it ended ("code 1", "signal SIGKILL"). */
  readonly exited: Promise<string>;
  stop(graceMs?: number): Promise<void>;
  logTail(lines?: number): string;
  memory(): Rss | undefined;
  cpuS(): number | undefined;
}

const live = new Set<ChildProcess>();
let hooked = false;

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try { process.kill(-pid, sig); } catch { /* gone */ }
}

export function spawnAgent(name: string, command: readonly string[], logFile: string, env: NodeJS.ProcessEnv = process.env): AgentProcess {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => { for (const c of live) killGroup(c.pid, 'SIGKILL'); });
  }
  const out = openSync(logFile, 'a');
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', out, out], detached: true, env });
  closeSync(out);
  live.add(child);
  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, sig) => { running = false; live.delete(child); resolve(sig ? `signal ${sig}` : `code ${code}`); });
    child.once('error', (err) => { running = false; live.delete(child); resolve(`error ${err.message}`); });
  });
  const pid = child.pid ?? 0;
  return {
    name, pid, logFile, exited,
    get running() { return running; },
    async stop(graceMs = 10_000) {
      if (!running) return;
      killGroup(pid, 'SIGTERM');
      const t = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
    logTail(lines = 15) {
      try { return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
    },
    memory: () => processMemory(pid),
    cpuS: () => processCpuS(pid),
  };
}
