/**
 * rpc: what the agent runtime costs on top of a stock XMPP client, through a real ejabberd.
 *  (a) typed request round trip, sequential: rtt_p50_ms, rtt_p99_ms
 *  (b) typed one-way throughput, counted at the receiver: msgs_per_s
 *  (c) the same for a stock @xmpp/client pair (Nagle off), paced as a careful user of it
 *      would (lib/stock-pair.ts): baseline_*; when the pair fails, baseline_error says how
 *      and the typed figures are still printed
 *  (d) a burst of typed messages all queued at once: burst_delivered, and disconnects
 *      (offline events of either agent during the whole run)
 * Sender and receiver share this process, as do the baseline pair, so the comparison
 * is like for like. rtt_tail splits each typed round trip into its two legs (request to
 * the handler, answer back) and says what the slowest 1% overlapped: GC pauses, event
 * loop stalls, and which leg they were slow in.
 */
import { loadavg } from 'node:os';
import { defineRequest, defineMessage, object, int, str } from '../protocols/index.js';
import type { Agent, AgentEvent } from '../core/index.js';
import { withServer, machine, round, progress, Counter, type Bench } from './lib.js';
import {
  cpuMeter,
  settle,
  stockPair,
  stockRate,
  stockRtt,
  tailed,
  type Rate,
  type StockPair,
  type TailedRtt,
} from './lib/index.js';

const NS = 'urn:cloudgate:bench:1';
const Echo = defineRequest(NS, 'echo', {
  request: object({ seq: int(), data: str() }),
  response: object({ seq: int() }),
  timeoutMs: 10000,
});
const Tick = defineMessage(NS, 'tick', object({ seq: int(), data: str() }));
const DATA = 'payload-0123456789';
const STALL_MS = 20000;
/** Sends issued before the sender awaits one: how a program streams without a burst. */
const PIPELINE = 1000;
/** The stock pair's pacing (lib/stock-pair.ts): far below ejabberd's max_ack_queue. */
const PACING = { window: 1000, ackEvery: 250 };

export const bench: Bench = {
  name: 'rpc',
  summary: 'typed request round trip, one-way throughput and a burst, against a stock @xmpp/client pair',
  flags: {
    requests: 'sequential typed requests measured (default 5000, after --warmup)',
    messages: 'one-way messages measured for throughput (default 50000)',
    burst: 'typed messages queued at once (default 100000)',
    warmup: 'requests and messages sent first and not measured (default 1000)',
    rounds: 'one-way rounds of --messages, typed and baseline alternating; the best of each counts (default 3)',
  },
  run: (f) =>
    run({
      requests: f.requests ?? 5000,
      messages: f.messages ?? 50000,
      burst: f.burst ?? 100000,
      warmup: f.warmup ?? 1000,
      rounds: Math.max(1, f.rounds ?? 3),
    }),
};

interface Opts {
  requests: number;
  messages: number;
  burst: number;
  warmup: number;
  rounds: number;
}

async function run(o: Opts): Promise<Record<string, unknown>> {
  return withServer(async (s) => {
    const a = await s.agent('bench-a');
    const b = await s.agent('bench-b');
    let disconnects = 0;
    for (const x of [a, b])
      x.on('status', (e: AgentEvent) => {
        if (e.type === 'offline') disconnects++;
      });
    /** When each echo request reached b's handler (performance.now()), for the leg times. */
    const arrived = new Map<number, number>();
    b.handle(Echo, (q) => {
      arrived.set(q.seq, performance.now());
      return { seq: q.seq };
    });
    let ticks: Counter | undefined;
    b.onMessage(Tick, () => {
      ticks?.hit();
    });
    await Promise.all([a.start(), b.start()]);
    // The stock pair is the baseline, not the subject: when it fails (the server closes it,
    // it stalls), the run says so under baseline_error and goes on with the typed figures.
    const base: Record<string, unknown> = {};
    let raw: StockPair | undefined;
    const baseline = async <T>(what: string, fn: (raw: StockPair) => Promise<T>): Promise<T | undefined> => {
      if (!raw || base.baseline_error) return undefined;
      try {
        return await fn(raw);
      } catch (err) {
        base.baseline_error = `${what}: ${(err as Error)?.message ?? err}`;
        progress(`baseline failed (${base.baseline_error}); typed figures go on`);
        return undefined;
      }
    };
    try {
      raw = await stockPair(s, PACING, progress);
    } catch (err) {
      base.baseline_error = `stock pair login: ${(err as Error)?.message ?? err}`;
    }
    try {
      progress(`round trips: ${o.warmup} + ${o.requests}, typed then baseline`);
      await typedRtt(a, b, o.warmup, arrived);
      const rtt = await typedRtt(a, b, o.requests, arrived);
      await baseline('round trips', (p) => stockRtt(p, o.warmup));
      const baseRtt = await baseline('round trips', (p) => stockRtt(p, o.requests));

      const typedRate = async (n: number): Promise<Rate> => {
        ticks = new Counter(n, STALL_MS, 'typed one-way');
        const t0 = performance.now();
        const cpu = cpuMeter();
        const sends: Array<Promise<void>> = [];
        for (let i = 0; i < n; i++) {
          sends.push(a.send(Tick, b.jid, { seq: i, data: DATA }));
          if (i % PIPELINE === PIPELINE - 1) await sends[sends.length - 1];
        }
        await Promise.all(sends);
        return { perS: (n / ((await ticks.reached) - t0)) * 1000, cpuUs: cpu(n) };
      };
      const stockOneWay = (n: number) => (p: StockPair) =>
        stockRate(p, n, { ...PACING, ns: NS, data: DATA, stallMs: STALL_MS });
      await typedRate(o.warmup);
      await baseline('one-way warm-up', stockOneWay(o.warmup));
      // Alternate typed and baseline rounds and keep each one's best: other work on the
      // machine slows some rounds, and it should not decide the ratio.
      const rates: Rate[] = [];
      const baseRates: Rate[] = [];
      for (let r = 1; r <= o.rounds; r++) {
        progress(`one-way round ${r}/${o.rounds}: ${o.messages} typed, then ${o.messages} baseline`);
        rates.push(await typedRate(o.messages));
        await baseline('settle', settle);
        const br = await baseline(`one-way round ${r}`, stockOneWay(o.messages));
        if (br) baseRates.push(br);
        await baseline('settle', settle);
      }
      const rate = best(rates);
      const baseRate = baseRates.length ? best(baseRates) : undefined;

      progress(`burst: ${o.burst} typed messages queued at once`);
      ticks = new Counter(o.burst, STALL_MS, 'burst');
      const t0 = performance.now();
      const sends: Array<Promise<void>> = [];
      for (let i = 0; i < o.burst; i++) sends.push(a.send(Tick, b.jid, { seq: i, data: DATA }));
      const failed = (await Promise.allSettled(sends)).filter((r) => r.status === 'rejected').length;
      let burstMs: number | null = null;
      try {
        burstMs = (await ticks.reached) - t0;
      } catch (err) {
        progress(String(err));
      }
      const num = (v: number | undefined, digits?: number) => (v === undefined ? null : round(v, digits));

      return {
        bench: 'rpc',
        rtt_p50_ms: round(rtt.p50),
        rtt_p99_ms: round(rtt.p99),
        msgs_per_s: Math.round(rate.perS),
        baseline_rtt_p50_ms: num(baseRtt?.p50),
        baseline_rtt_p99_ms: num(baseRtt?.p99),
        baseline_msgs_per_s: baseRate ? Math.round(baseRate.perS) : null,
        throughput_ratio: baseRate ? round(rate.perS / baseRate.perS) : null,
        ...base,
        burst: o.burst,
        burst_delivered: ticks.count,
        burst_send_failures: failed,
        burst_ms: burstMs === null ? null : Math.round(burstMs),
        disconnects,
        // CPU time of this process (both ends) per operation: comparable even when
        // other work shares the machine, unlike rates.
        cpu_us_per_request: round(rtt.cpuUs, 1),
        baseline_cpu_us_per_request: num(baseRtt?.cpuUs, 1),
        cpu_us_per_msg: round(rate.cpuUs, 1),
        baseline_cpu_us_per_msg: num(baseRate?.cpuUs, 1),
        msgs_per_s_rounds: rates.map((x) => Math.round(x.perS)),
        baseline_msgs_per_s_rounds: baseRates.map((x) => Math.round(x.perS)),
        // Where the slowest typed requests spent their time (tail.ts).
        rtt_tail: rtt.tail,
        baseline_pacing: PACING,
        requests: o.requests,
        messages: o.messages,
        warmup: o.warmup,
        rounds: o.rounds,
        machine: { ...machine(s.version), load_average: loadavg().map((x) => round(x, 2)) },
      };
    } finally {
      await Promise.all([a.stop(), b.stop(), raw?.stop()]);
    }
  });
}

const best = (rs: Rate[]): Rate => rs.reduce((x, y) => (y.perS > x.perS ? y : x));

/** Sequential typed requests, each timed in its two legs (tail.ts). */
function typedRtt(a: Agent, b: Agent, n: number, arrived: Map<number, number>): Promise<TailedRtt> {
  return tailed(n, async (i) => {
    const r = await a.request(Echo, b.jid, { seq: i, data: DATA });
    if (r.seq !== i) throw new Error(`echo ${i} answered ${r.seq}`);
    const at = arrived.get(i);
    arrived.delete(i);
    return at;
  });
}
