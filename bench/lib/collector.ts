/**
 * The agent that watches a fleet of instance agents, as a gateway would: it sees each one
 * come online through its presence (protocols/instance.ts InstancePresence), takes their
 * heartbeats and context reports, and broadcasts a typed request (InstanceStatus) to all
 * of them at once, timing every reply.
 */
import type { Agent, PeerEvent } from '../../core/index.js';
import { instance as proto } from '../../protocols/index.js';
import { percentile } from '../lib.js';
import { unlessAborted, describe } from './outcome.js';

const { ContextReport, Heartbeat, InstancePresence, InstanceStatus } = proto;

export interface Fanout {
  ms: number;
  ok: number;
  failed: number;
  reply_ms_p50: number;
  reply_ms_p99: number;
  error?: string;
}

export type Collector = ReturnType<typeof collector>;

export function collector(agent: Agent) {
  /** Bare JID → full JID of every instance whose presence says it is ready. */
  const ready = new Map<string, string>();
  const listeners = new Set<() => void>();
  let beats = 0;
  let reports = 0;

  agent.registerPresence(InstancePresence);
  agent.onMessage(Heartbeat, () => {
    beats++;
  });
  agent.onMessage(ContextReport, () => {
    reports++;
  });
  agent.on('peer', (e: PeerEvent) => {
    if (e.peer.kind !== 'instance') return;
    const isReady = e.type !== 'offline' && (e.peer.data as { ready?: boolean } | undefined)?.ready === true;
    if (isReady) ready.set(e.peer.bare, e.peer.jid);
    else if (ready.get(e.peer.bare) === e.peer.jid) ready.delete(e.peer.bare);
    for (const l of listeners) l();
  });

  return {
    get beats() {
      return beats;
    },
    get reports() {
      return reports;
    },
    /** How many of `bares` are ready now. */
    readyOf(bares: readonly string[]): number {
      let n = 0;
      for (const b of bares) if (ready.has(b)) n++;
      return n;
    },
    /** Full JIDs of those of `bares` that are ready. */
    jidsOf(bares: readonly string[]): string[] {
      return bares.map((b) => ready.get(b)).filter((j): j is string => j !== undefined);
    },
    /**
     * Resolves with performance.now() once every one of `bares` is ready; rejects when
     * none became ready for `stallMs` (saying how many were), or when `signal` aborts.
     */
    async allReady(bares: readonly string[], stallMs: number, signal: AbortSignal): Promise<number> {
      const want = new Set(bares);
      let have = this.readyOf(bares);
      if (have === want.size) return performance.now();
      let last = Date.now();
      let onChange!: () => void;
      let timer: NodeJS.Timeout | undefined;
      try {
        return await unlessAborted(
          new Promise<number>((resolve, reject) => {
            onChange = () => {
              const n = this.readyOf(bares);
              if (n !== have) {
                have = n;
                last = Date.now();
              }
              if (n === want.size) resolve(performance.now());
            };
            listeners.add(onChange);
            timer = setInterval(() => {
              if (Date.now() - last > stallMs)
                reject(new Error(`${have} of ${want.size} agents online; none more for ${stallMs / 1000} s`));
            }, 250);
          }),
          signal,
        );
      } finally {
        listeners.delete(onChange);
        clearInterval(timer);
      }
    },
    /** Sends InstanceStatus to every JID at once; resolves once each has answered or failed. */
    async fanout(jids: readonly string[], timeoutMs: number): Promise<Fanout> {
      const replies: number[] = [];
      let failed = 0;
      let error: string | undefined;
      const t0 = performance.now();
      await Promise.all(
        jids.map((j) =>
          agent.request(InstanceStatus, j, {}, { timeoutMs }).then(
            (r) => {
              if (r.phase === 'ready') replies.push(performance.now() - t0);
              else {
                failed++;
                error ??= `${j} answered phase ${r.phase}`;
              }
            },
            (err: unknown) => {
              failed++;
              error ??= `${j}: ${describe(err)}`;
            },
          ),
        ),
      );
      const ms = performance.now() - t0;
      return {
        ms,
        ok: replies.length,
        failed,
        reply_ms_p50: percentile(replies, 50),
        reply_ms_p99: percentile(replies, 99),
        error,
      };
    },
  };
}
