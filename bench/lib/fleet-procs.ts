/**
 * A fleet of instance agents spread over several processes (fleet-worker.ts), for counts
 * one process cannot hold: each agent has a TLS session and SQLite files open, and a
 * process's open-file limit (20,000 on this machine, not raisable without privileges)
 * ends near 5,000 agents. The processes log in at the same time, each paced at its share
 * of the concurrency; the parent sees one Fleet with every agent's bare JID and login time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineEvent, object, int, str } from '../../protocols/index.js';
import type { FleetOptions } from './fleet.js';
import { processMemory } from './proc.js';

/** The bench's broadcast item: its sequence and when it was published (epoch ms). */
export const Broadcast = defineEvent('urn:cloudgate:bench:1', 'broadcast', object({ seq: int(), at: str() }));

export type WorkerStart = Omit<FleetOptions, 'key' | 'log' | 'signal'> & { keyFile: string };

export type ToWorker =
  | { type: 'start'; options: WorkerStart }
  | { type: 'subscribe'; node: string; concurrency: number }
  | { type: 'received'; seq: number }
  | { type: 'stop' };

export type FromWorker =
  | {
      type: 'started';
      bares: string[];
      loginMs: number[];
      retries: number;
      failed: number;
      firstError?: string;
      rssMb: number;
      /** Before its first agent started: the runtime alone. */
      baseRssMb: number;
    }
  | { type: 'subscribed'; ok: number; failed: number; error?: string }
  | { type: 'received'; seq: number; n: number; first: number; last: number }
  | { type: 'stopped'; disconnects: number; peakRssMb: number; logs: Record<string, number> }
  | { type: 'error'; error: string };

export interface ProcFleetOptions extends Omit<FleetOptions, 'key' | 'log' | 'offset'> {
  keyFile: string;
  /** Processes to spread the agents over (at least 1). */
  processes: number;
}

export interface ProcFleet {
  bares: string[];
  loginMs: number[];
  retries: number;
  failed: number;
  firstError?: string;
  /** Resident memory of the fleet's processes now, MB, summed; and how many processes. */
  rssMb(): number;
  /** What the processes held before their first agent started, MB, summed. */
  baseRssMb: number;
  processes: number;
  /** Subscribes every agent to `node` of its host's PubSub service. */
  subscribe(node: string, concurrency: number): Promise<{ ok: number; failed: number; error?: string }>;
  /** How many agents received broadcast `seq`, and when the first and last did (epoch ms). */
  received(seq: number): Promise<{ n: number; first: number; last: number }>;
  /** Stops every agent and process; sessions lost during the run, peak memory and log counts. */
  stop(): Promise<{ disconnects: number; peakRssMb: number; logs: Map<string, number> }>;
}

const WORKER = fileURLToPath(new URL('./fleet-worker.js', import.meta.url));

class Worker {
  private waiting: Array<{ type: FromWorker['type']; resolve: (m: any) => void; reject: (e: Error) => void }> = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromWorker) => {
      if (m.type === 'error') {
        for (const w of this.waiting.splice(0)) w.reject(new Error(`fleet process ${child.pid}: ${m.error}`));
        return;
      }
      const i = this.waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(m);
    });
    this.exited = new Promise((r) =>
      child.on('exit', (code, sig) => {
        for (const w of this.waiting.splice(0))
          w.reject(new Error(`fleet process ${child.pid} exited (${code ?? sig}) before answering ${w.type}`));
        r(code);
      }),
    );
  }

  ask<T extends FromWorker['type']>(m: ToWorker, want: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ type: want, resolve, reject });
      this.child.send(m);
    });
  }
}

export async function startProcFleet(o: ProcFleetOptions): Promise<ProcFleet> {
  const n = Math.max(1, Math.min(o.processes, o.count));
  const per = Math.ceil(o.count / n);
  const workers: Worker[] = [];
  for (let p = 0; p < n; p++)
    workers.push(
      new Worker(
        fork(WORKER, [], {
          execArgv: ['--max-old-space-size=8192'],
          env: { ...process.env },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
      ),
    );
  const { signal, keyFile, processes: _p, ...rest } = o;
  const kill = () => {
    for (const w of workers) w.child.kill('SIGTERM');
  };
  signal.addEventListener('abort', kill, { once: true });
  const starts = await Promise.allSettled(
    workers.map((w, p) =>
      w.ask(
        {
          type: 'start',
          options: {
            ...rest,
            keyFile,
            offset: p * per,
            count: Math.max(0, Math.min(per, o.count - p * per)),
            concurrency: Math.max(1, Math.round(o.concurrency / n)),
          },
        },
        'started',
      ),
    ),
  );
  const out: ProcFleet = {
    bares: [],
    loginMs: [],
    retries: 0,
    failed: 0,
    processes: n,
    baseRssMb: 0,
    rssMb: () => workers.reduce((sum, w) => sum + (processMemory(w.child.pid ?? 0)?.rss_mb ?? 0), 0),
    async subscribe(node, concurrency) {
      const rs = await Promise.all(
        workers.map((w) =>
          w.ask({ type: 'subscribe', node, concurrency: Math.max(1, Math.round(concurrency / n)) }, 'subscribed'),
        ),
      );
      return {
        ok: rs.reduce((s, r) => s + r.ok, 0),
        failed: rs.reduce((s, r) => s + r.failed, 0),
        error: rs.find((r) => r.error)?.error,
      };
    },
    async received(seq) {
      const rs = await Promise.all(workers.map((w) => w.ask({ type: 'received', seq }, 'received')));
      const got = rs.filter((r) => r.n > 0);
      return {
        n: rs.reduce((s, r) => s + r.n, 0),
        first: got.length ? Math.min(...got.map((r) => r.first)) : 0,
        last: got.length ? Math.max(...got.map((r) => r.last)) : 0,
      };
    },
    async stop() {
      signal.removeEventListener('abort', kill);
      const rs = await Promise.allSettled(workers.map((w) => w.ask({ type: 'stop' }, 'stopped')));
      const logs = new Map<string, number>();
      let disconnects = 0;
      let peak = 0;
      for (const r of rs) {
        if (r.status !== 'fulfilled') continue;
        disconnects += r.value.disconnects;
        peak += r.value.peakRssMb;
        for (const [k, v] of Object.entries(r.value.logs)) logs.set(k, (logs.get(k) ?? 0) + v);
      }
      // A process that did not answer in time is ended: no sessions may outlive the run.
      await Promise.all(
        workers.map(async (w) => {
          const t = setTimeout(() => w.child.kill('SIGKILL'), 30_000);
          await w.exited;
          clearTimeout(t);
        }),
      );
      return { disconnects, peakRssMb: Math.round(peak), logs };
    },
  };
  for (const s of starts) {
    if (s.status === 'rejected') {
      out.failed += per;
      out.firstError ??= String((s.reason as Error)?.message ?? s.reason);
      continue;
    }
    out.bares.push(...s.value.bares);
    out.loginMs.push(...s.value.loginMs);
    out.retries += s.value.retries;
    out.baseRssMb += s.value.baseRssMb;
    out.failed += s.value.failed;
    out.firstError ??= s.value.firstError;
  }
  return out;
}
