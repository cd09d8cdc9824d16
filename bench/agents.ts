/**
 * agents: N real instance agents (agents/instance, its in-process factory, spread over
 * --processes processes: one process cannot hold more than a few thousand open sessions
 * and SQLite files within its open-file limit) each with its own root directory, SQLite
 * state, XMPP session and JWT identity from the instance host's key, log in to one
 * ejabberd at once, paced; a collector agent watches them through presence, broadcasts a
 * typed request (InstanceStatus) to all of them, and publishes PubSub items they all
 * subscribed to.
 *  login_seconds   first login started → every agent seen ready by the collector
 *  online          agents the collector saw ready (of `agents`)
 *  fanout_ms       one InstanceStatus to every agent at once → every reply in (first
 *                  round), with p50/p99 over `rounds` rounds and per-reply latencies
 *  broadcast_ms    one PubSub item published → the last agent received it, p50 of rounds
 *  memory          the fleet's processes and ejabberd's Erlang VM, per agent
 *  disconnects     sessions lost by any agent during the run
 * The baseline is the same storm and fan-out at --baseline agents (default 10), run first
 * against the same server: baseline_* show what a thousand cost beyond a few.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Agent, mintToken, sleep, type AgentEvent } from '../core/index.js';
import { machine, percentile, progress, round, type Bench } from './lib.js';
import {
  collector,
  countingLogger,
  ownCpuS,
  outcome,
  startProcFleet,
  Broadcast,
  topCounts,
  withEjabberd,
  type BenchEjabberd,
  type Collector,
  type ProcFleet,
  type Result,
} from './lib/index.js';

const VMS = 'vms.localhost';

interface Opts {
  count: number;
  baseline: number;
  concurrency: number;
  rounds: number;
  timeout: number;
  heartbeat: number;
  processes?: number;
}

/** Agents per fleet process by default: sockets plus SQLite files stay far below 20,000 open files. */
const PER_PROCESS = 2500;

export const bench: Bench = {
  name: 'agents',
  summary: 'login storm and fan-out of N instance agents (in-process) against one ejabberd',
  flags: {
    count: 'instance agents (default 1000)',
    baseline: 'agents of the baseline storm run first (default 10)',
    concurrency: 'logins in flight at once (default 50)',
    rounds: 'fan-out rounds (default 5)',
    heartbeat: 'heartbeat interval of each agent in seconds (default 30)',
    timeout: 'seconds before the whole run gives up (default 600)',
    processes: `processes the agents are spread over (default one per ${PER_PROCESS})`,
  },
  run: (f) =>
    run({
      count: f.count ?? 1000,
      baseline: f.baseline ?? 10,
      concurrency: Math.max(1, f.concurrency ?? 50),
      rounds: Math.max(1, f.rounds ?? 5),
      timeout: f.timeout ?? 600,
      heartbeat: Math.max(1, f.heartbeat ?? 30),
      processes: f.processes,
    }),
};

function run(o: Opts): Promise<Result> {
  return outcome(o.timeout, async (r, signal) => {
    Object.assign(r, {
      bench: 'agents',
      agents: o.count,
      online: 0,
      concurrency: o.concurrency,
      load_average_start: loadavg().map((x) => round(x, 2)),
    });
    const logs = countingLogger();
    const dir = mkdtempSync(join(tmpdir(), 'cg-bench-agents-'));
    try {
      await withEjabberd({ extraHosts: [{ name: VMS, ownJwtKey: true }], operatorJwt: true }, async (s) => {
        r.machine = machine(s.version);
        const { token } = await mintToken(await s.key(), `collector@${s.host}`, 3600);
        const agent = new Agent({
          kind: 'bench',
          log: logs.log,
          xmpp: {
            service: s.service,
            domain: s.host,
            username: 'collector',
            password: token,
            isToken: true,
            ca: s.ca,
            resource: 'collector',
            maxStartAttempts: 3,
          },
          // The broadcast node lives on the instances' host's PubSub service, the one
          // their agents subscribe through.
          pubsubService: `pubsub.${VMS}`,
        });
        let collectorDisconnects = 0;
        /** Why the collector's session ended, each time (the first few), with when. */
        const offlineReasons: string[] = [];
        const t0 = performance.now();
        agent.on('status', (e: AgentEvent) => {
          if (e.type !== 'offline') return;
          collectorDisconnects++;
          if (offlineReasons.length < 5)
            offlineReasons.push(`${round((performance.now() - t0) / 1000, 1)} s: ${e.reason ?? 'no reason given'}`);
        });
        const c = collector(agent);
        await agent.start();
        try {
          const x: StormContext = { agent, logs: logs.counts, s, c, commander: agent.bare, dir, log: logs.log, signal };
          if (o.baseline > 0) {
            progress(`baseline: ${o.baseline} agents`);
            await storm(x, { ...o, count: o.baseline }, 'base', 'baseline_', r);
          }
          progress(`storm: ${o.count} agents, ${o.concurrency} logins at a time`);
          await storm(x, o, 'inst', '', r);
        } finally {
          r.collector_disconnects = collectorDisconnects;
          if (offlineReasons.length) r.collector_offline_reasons = offlineReasons;
          r.heartbeats_received = c.beats;
          r.context_reports_received = c.reports;
          await agent.stop();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      r.log_lines = topCounts(logs.counts);
      r.load_average_end = loadavg().map((x) => round(x, 2));
    }
  });
}

interface StormContext {
  agent: Agent;
  logs: Map<string, number>;
  s: BenchEjabberd;
  c: Collector;
  commander: string;
  dir: string;
  log: Logger;
  signal: AbortSignal;
}

/** One storm and its fan-out rounds; fields go into `r` under `prefix`. The fleet is stopped after. */
async function storm(x: StormContext, o: Opts, name: string, prefix: string, r: Result): Promise<void> {
  const { s, c, signal } = x;
  const put = (k: string, v: unknown) => {
    r[prefix + k] = v;
  };
  const cpu = () => ({ node: ownCpuS(), ejabberd: s.cpuS() ?? 0 });
  /** CPU seconds each side used since `from`, divided by `n`: load-independent, unlike wall time. */
  const cpuSince = (from: { node: number; ejabberd: number }, n = 1, unit = 1) => {
    const now = cpu();
    return {
      node: round(((now.node - from.node) * unit) / n, 2),
      ejabberd: round(((now.ejabberd - from.ejabberd) * unit) / n, 2),
    };
  };
  const cpu0 = cpu();
  const ej0 = s.memory()?.rss_mb ?? 0;
  const t0 = performance.now();
  const keyFile = (await s.key(VMS)).file;
  if (!keyFile) throw new Error(`the key of ${VMS} has no file to hand to the fleet processes`);
  const fleet = await startProcFleet({
    prefix: name,
    count: o.count,
    processes: o.processes ?? Math.ceil(o.count / PER_PROCESS),
    domain: VMS,
    keyFile,
    server: { host: s.info.ip, port: s.info.c2sPort },
    ca: s.ca,
    commander: x.commander,
    dir: x.dir,
    concurrency: o.concurrency,
    attempts: 5,
    loginTimeoutMs: 30_000,
    heartbeatS: o.heartbeat,
    signal,
  });
  put('processes', fleet.processes);
  try {
    put('logins_failed', fleet.failed);
    put('login_retries', fleet.retries);
    if (fleet.firstError) put('login_error', fleet.firstError);
    put('login_ms_p50', round(percentile(fleet.loginMs, 50), 1));
    put('login_ms_p99', round(percentile(fleet.loginMs, 99), 1));
    let done: number | undefined;
    try {
      done = await c.allReady(fleet.bares, 20_000, signal);
    } finally {
      put('online', c.readyOf(fleet.bares));
      put('login_seconds', round(((done ?? performance.now()) - t0) / 1000, 2));
      put('login_cpu_s', cpuSince(cpu0));
    }
    if (fleet.failed) throw new Error(`${fleet.failed} of ${o.count} agents could not log in (${fleet.firstError})`);
    const rss1 = { node_mb: round(fleet.rssMb(), 1), node_base_mb: round(fleet.baseRssMb, 1), ejabberd: s.memory() };
    put('rss_after_login', rss1);
    // What one agent costs: its fleet process's growth from before its first agent (the
    // runtime itself excluded), and ejabberd's growth for its session.
    put('rss_kb_per_agent', {
      node: Math.round(((rss1.node_mb - rss1.node_base_mb) * 1024) / o.count),
      ejabberd: Math.round((((rss1.ejabberd?.rss_mb ?? 0) - ej0) * 1024) / o.count),
    });

    const jids = c.jidsOf(fleet.bares);
    const rounds: number[] = [];
    const cpu1 = cpu();
    for (let i = 0; i < o.rounds; i++) {
      signal.throwIfAborted();
      const f = await c.fanout(jids, 10_000);
      rounds.push(f.ms);
      if (i === 0) {
        put('fanout_ms', round(f.ms, 1));
        put('reply_ms_p50', round(f.reply_ms_p50, 1));
        put('reply_ms_p99', round(f.reply_ms_p99, 1));
      }
      if (f.failed) {
        put('fanout_failed', f.failed);
        throw new Error(`fan-out round ${i + 1}: ${f.failed} of ${jids.length} requests failed (${f.error})`);
      }
    }
    put(
      'fanout_ms_rounds',
      rounds.map((v) => round(v, 1)),
    );
    put('fanout_ms_p50', round(percentile(rounds, 50), 1));
    put('fanout_ms_p99', round(percentile(rounds, 99), 1));
    put('fanout_cpu_ms_per_round', cpuSince(cpu1, o.rounds, 1000));
    await broadcast(x, fleet, o, `bench/${name}`, put);
  } finally {
    const end = await fleet.stop();
    put('disconnects', end.disconnects);
    put('peak_rss_mb', { node: end.peakRssMb, ejabberd: s.memory()?.peak_rss_mb });
    for (const [k, v] of end.logs) x.logs.set(k, (x.logs.get(k) ?? 0) + v);
  }
}

/**
 * PubSub broadcast: every agent subscribes to one node, then each round publishes one
 * item and waits until every agent's process counted it. Times are epoch milliseconds
 * from the same clock in every process of this machine.
 */
async function broadcast(
  x: StormContext,
  fleet: ProcFleet,
  o: Opts,
  node: string,
  put: (k: string, v: unknown) => void,
): Promise<void> {
  const { agent, signal } = x;
  await agent.pubsub.ensureNode(node, { accessModel: 'open', maxItems: 1 });
  const sub = await fleet.subscribe(node, o.concurrency);
  put('broadcast_subscribed', sub.ok);
  if (sub.failed) throw new Error(`${sub.failed} agents could not subscribe to ${node} (${sub.error})`);
  const want = fleet.bares.length;
  const times: number[] = [];
  for (let seq = 1; seq <= o.rounds; seq++) {
    signal.throwIfAborted();
    const t0 = performance.timeOrigin + performance.now();
    await agent.pubsub.publish(Broadcast, node, { seq, at: new Date(t0).toISOString() });
    let last = { n: 0, first: 0, last: 0 };
    let seen = performance.now();
    let count = -1;
    for (;;) {
      last = await fleet.received(seq);
      if (last.n >= want) break;
      if (last.n !== count) {
        count = last.n;
        seen = performance.now();
      } else if (performance.now() - seen > 10_000) {
        put('broadcast_received', last.n);
        throw new Error(`broadcast ${seq}: ${last.n} of ${want} agents received it; none more for 10 s`);
      }
      await sleep(20, signal);
    }
    times.push(last.last - t0);
  }
  put('broadcast_received', want);
  put(
    'broadcast_ms_rounds',
    times.map((v) => round(v, 1)),
  );
  put('broadcast_ms_p50', round(percentile(times, 50), 1));
}
