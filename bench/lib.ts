/**
 * What benchmarks share: the module contract, flag parsing, a project-local ejabberd
 * in a temp dir that is always stopped, JWT agents, and latency statistics.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { EjabberdServer } from '../ejabberd/index.js';
import { Agent, createLogger, loadJwtKey, mintToken, type AgentOptions } from '../core/index.js';

export interface Bench {
  name: string;
  summary: string;
  /** Numeric flags the benchmark takes, with their help text. */
  flags: Record<string, string>;
  run(flags: Record<string, number>): Promise<Record<string, unknown>>;
}

/** `--name N` pairs; only known names, only non-negative integers. */
export function parseFlags(args: string[], known: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(args[i]);
    if (!m || !known.includes(m[1]))
      throw new Error(`unknown argument '${args[i]}' (flags: ${known.map((k) => `--${k}`).join(' ')})`);
    const v = m[2] ?? args[++i];
    if (v === undefined || !/^\d+$/.test(v)) throw new Error(`--${m[1]} needs a whole number, got '${v ?? ''}'`);
    out[m[1]] = Number(v);
  }
  return out;
}

export const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

export interface BenchServer {
  server: EjabberdServer;
  host: string;
  service: string;
  ca: string;
  version: string;
  agent(user: string, o?: Partial<AgentOptions>): Promise<Agent>;
  stop(): Promise<void>;
}

/** Starts a throw-away ejabberd; `use` runs with it and the server is stopped whatever happens. */
export async function withServer<T>(use: (s: BenchServer) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-bench-'));
  // Its many throw-away sessions log in with the operator's key under many names: all of
  // the host's accounts are agents. A benchmark, not a set-up.
  const server = await EjabberdServer.prepare({ dir, logLevel: 'warning', operatorJwt: true, agents: ['localhost'] });
  const stop = async () => {
    await server.stop();
    server.remove();
  };
  const onSignal = () => {
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    await server.start();
    const key = await loadJwtKey(server.info.jwtKeyFile);
    const host = server.info.host;
    const service = `xmpp://${server.info.ip}:${server.info.c2sPort}`;
    const ca = readFileSync(server.info.certFile, 'utf8');
    const status = await server.ctl('status').catch(() => '');
    const version = /ejabberd (\S+) is running/.exec(status)?.[1] ?? 'unknown';
    const log = createLogger({ level: process.env.CLOUDGATE_LOG_LEVEL ?? 'warn' });
    return await use({
      server,
      host,
      service,
      ca,
      version,
      stop,
      async agent(user, o = {}) {
        const { token } = await mintToken(key, `${user}@${host}`, 3600);
        return new Agent({
          kind: 'bench',
          log,
          ...o,
          xmpp: {
            service,
            domain: host,
            username: user,
            password: token,
            isToken: true,
            ca,
            resource: 'bench',
            maxStartAttempts: 3,
          },
        });
      },
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    await stop();
  }
}

export function machine(ejabberd: string): Record<string, unknown> {
  return { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', node: process.version, ejabberd };
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/**
 * Counts arrivals; `reached` resolves (with the time) on the `target`-th, or rejects when
 * nothing arrived for `stallMs`, so a lost message ends a run with a clear error.
 */
export class Counter {
  count = 0;
  private lastAt = Date.now();
  private resolve!: (t: number) => void;
  private reject!: (e: Error) => void;
  private timer?: NodeJS.Timeout;
  readonly reached: Promise<number>;

  constructor(
    readonly target: number,
    stallMs: number,
    what: string,
  ) {
    this.reached = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.reached.catch(() => {});
    this.timer = setInterval(
      () => {
        if (Date.now() - this.lastAt > stallMs)
          this.fail(new Error(`${what}: ${this.count}/${this.target} after ${stallMs} ms without progress`));
      },
      Math.min(1000, stallMs),
    );
    if (target === 0) this.finish();
  }

  hit(): void {
    this.count++;
    this.lastAt = Date.now();
    if (this.count === this.target) this.finish();
  }

  private finish(): void {
    clearInterval(this.timer);
    this.resolve(performance.now());
  }
  fail(err: Error): void {
    clearInterval(this.timer);
    this.reject(err);
  }
}
