/**
 * Run one shell script with /bin/sh under a deadline, keeping only the tail of its output
 * (a chatty script must not fill memory, and the tail is what explains a failure).
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  tailLines?: number;
  /** Bytes of each stream kept (the end of it); default 16 KiB. */
  keepBytes?: number;
}
export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  stdoutTail: string[];
  stderrTail: string[];
  /** The last `keepBytes` of each stream, as written. */
  stdout: string;
  stderr: string;
}

const KEEP_BYTES = 16 * 1024;
/** After the script exits, wait this long for its pipes to drain; a daemon it started in the background may hold them open forever. */
const DRAIN_MS = 100;
const KILL_GRACE_MS = 2000;

export function runScript(file: string, opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const lines = opts.tailLines ?? 20;
  const keep = opts.keepBytes ?? KEEP_BYTES;
  return new Promise((resolve) => {
    // Own process group, so a timeout kills the script and everything it spawned.
    const child = spawn('/bin/sh', [file], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out = (out + d).slice(-keep);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-keep);
    });
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    }, opts.timeoutMs);
    let done = false;
    const finish = (exitCode: number | null, signal: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(killer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        exitCode,
        signal,
        timedOut,
        durationMs: Date.now() - started,
        stdoutTail: tail(out, lines),
        stderrTail: tail(err, lines),
        stdout: out,
        stderr: err,
      });
    };
    child.on('error', (e) => {
      err += `\n${e.message}`;
      finish(null, null);
    });
    child.on('exit', (code, signal) => {
      const drain = setTimeout(() => finish(code, signal), DRAIN_MS);
      child.on('close', () => {
        clearTimeout(drain);
        finish(code, signal);
      });
    });
  });
}

function tail(text: string, n: number): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l.slice(-n);
}
