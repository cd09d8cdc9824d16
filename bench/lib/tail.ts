/**
 * Where a round trip's tail comes from. Each request is timed in two legs on one clock
 * (sender and handler share the process): out = sent → the handler ran, back = the
 * handler ran → the answer resolved. For the slowest 1% it counts what they overlapped:
 * a GC pause (perf_hooks 'gc' entries), an event-loop stall over 1 ms (a timer that fired
 * late), and in which leg the extra time was. Both legs cross ejabberd once, so a slow
 * out leg with no GC or stall in it is the server's or the network stack's time.
 */
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { percentile, round } from '../lib.js';

export interface Tail {
  slow_over_ms: number;
  slow: number;
  slow_with_gc: number;
  slow_with_stall: number;
  /** Of the slow requests' time beyond the median legs, the share spent in the out leg. */
  slow_out_leg_share: number | null;
  out_leg_p50_ms: number | null;
  out_leg_p99_ms: number | null;
  back_leg_p50_ms: number | null;
  back_leg_p99_ms: number | null;
  gc_pauses: number;
  gc_ms_total: number;
  gc_ms_max: number;
  event_loop_delay_p99_ms: number;
  event_loop_delay_max_ms: number;
}

export interface TailedRtt {
  p50: number;
  p99: number;
  cpuUs: number;
  tail: Tail;
}

/**
 * Runs `one(i)` n times in sequence; `one` resolves with when the handler ran
 * (performance.now()) or undefined when it does not know.
 */
export async function tailed(n: number, one: (i: number) => Promise<number | undefined>): Promise<TailedRtt> {
  const gc: Array<{ start: number; end: number }> = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as PerformanceEntry[])
      gc.push({ start: e.startTime, end: e.startTime + e.duration });
  });
  obs.observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  // A stall: a 1 ms timer that fired late by more than 1 ms, with when it happened.
  const stalls: Array<{ start: number; end: number }> = [];
  let expected = performance.now() + 1;
  const ticker = setInterval(() => {
    const now = performance.now();
    if (now - expected > 1) stalls.push({ start: expected, end: now });
    expected = now + 1;
  }, 1);
  const start = new Array<number>(n);
  const end = new Array<number>(n);
  const mid = new Array<number | undefined>(n);
  const u0 = process.cpuUsage();
  try {
    for (let i = 0; i < n; i++) {
      start[i] = performance.now();
      mid[i] = await one(i);
      end[i] = performance.now();
    }
  } finally {
    clearInterval(ticker);
    loop.disable();
    // Entries of the last GCs are delivered asynchronously.
    await new Promise((r) => setTimeout(r, 20));
    obs.disconnect();
  }
  const u = process.cpuUsage(u0);
  const ms = start.map((s, i) => end[i]! - s);
  const p99 = percentile(ms, 99);
  const outs: number[] = [];
  const backs: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = mid[i];
    if (m === undefined) continue;
    outs.push(m - start[i]!);
    backs.push(end[i]! - m);
  }
  const outP50 = outs.length ? percentile(outs, 50) : 0;
  const backP50 = backs.length ? percentile(backs, 50) : 0;
  const overlaps = (xs: Array<{ start: number; end: number }>, i: number) =>
    xs.some((x) => x.start < end[i]! && x.end > start[i]!);
  let slow = 0;
  let withGc = 0;
  let withStall = 0;
  let extraOut = 0;
  let extraBack = 0;
  for (let i = 0; i < n; i++) {
    if (ms[i]! < p99) continue;
    slow++;
    if (overlaps(gc, i)) withGc++;
    if (overlaps(stalls, i)) withStall++;
    const m = mid[i];
    if (m !== undefined) {
      extraOut += Math.max(0, m - start[i]! - outP50);
      extraBack += Math.max(0, end[i]! - m - backP50);
    }
  }
  const ns = (v: number) => round(v / 1e6, 3);
  return {
    p50: percentile(ms, 50),
    p99,
    cpuUs: (u.user + u.system) / n,
    tail: {
      slow_over_ms: round(p99, 3),
      slow,
      slow_with_gc: withGc,
      slow_with_stall: withStall,
      slow_out_leg_share: extraOut + extraBack > 0 ? round(extraOut / (extraOut + extraBack), 2) : null,
      out_leg_p50_ms: outs.length ? round(outP50, 3) : null,
      out_leg_p99_ms: outs.length ? round(percentile(outs, 99), 3) : null,
      back_leg_p50_ms: backs.length ? round(backP50, 3) : null,
      back_leg_p99_ms: backs.length ? round(percentile(backs, 99), 3) : null,
      gc_pauses: gc.length,
      gc_ms_total: round(
        gc.reduce((s, g) => s + g.end - g.start, 0),
        2,
      ),
      gc_ms_max: round(Math.max(0, ...gc.map((g) => g.end - g.start)), 2),
      event_loop_delay_p99_ms: ns(loop.percentile(99)),
      event_loop_delay_max_ms: ns(loop.max),
    },
  };
}
