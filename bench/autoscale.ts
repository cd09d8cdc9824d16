/**
 * autoscale: what autoscaling costs the gateway, on its real model (SQLite in a temp
 * file) and its real scaler, without servers (the decision reads only the database and
 * the latest heartbeats, which liveness.ts keeps in memory).
 *  tick_ms        one decision tick over `services` deployed services of `instances`
 *                 instances each (every instance with a fresh report), p50/p99/max over
 *                 `ticks` ticks: reading the instances, deciding, nothing changed
 *  decide_ms      the pure decisions alone of one such tick (no database)
 *  tick_cpu_ms,   the CPU time of one tick and of its decisions alone, on average: on
 *  decide_cpu_ms  a shared machine the wall times above include waiting for a core
 *  reaction_ms    a service's metric jumps above its target (a new report) → the scale
 *                 job is stored and the deployment's step is started, with the scaler's
 *                 own timer at `interval` ms, over `trials` jumps at random phases; the
 *                 allocation request goes out in that step (see `bench deploy`)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../core/index.js';
import { createScaler, decide, type Report } from '../agents/gateway/autoscale/index.js';
import {
  createGatewayModel,
  openGatewayStore,
  parseCluster,
  type GatewayModel,
} from '../agents/gateway/model/index.js';
import { machine, percentile, progress, round, type Bench } from './lib.js';

const cluster = (max: number) => `[cluster]
name = web

[service.front]
type = scalable
min = 1
max = ${max}
flavor = small
image = img

[autoscale.front]
policy = target
metric = rps
target = 100
`;

/** `services` completed deployments of one autoscaled service with `instances` running, ready instances. */
function populate(model: GatewayModel, services: number, instances: number): string[] {
  model.users.add('bench@example.org');
  const def = parseCluster(cluster(instances * 4));
  const ids: string[] = [];
  const now = Date.now();
  const ins =
    model.db.prepare(`INSERT INTO instances (id, deployment_id, service, name, cloud, replica, state, ready, created_at, updated_at)
    VALUES (?, ?, 'front', ?, 'cloud@example.org', 0, 'running', 1, ?, ?)`);
  model.transaction(() => {
    for (let s = 0; s < services; s++) {
      const d = model.deployments.create('bench@example.org', def);
      model.deployments.transition(d.id, 'running');
      model.deployments.transition(d.id, 'completed');
      model.wanted.set(d.id, 'front', instances);
      for (let k = 0; k < instances; k++) ins.run(`${d.id}-i${k}`, d.id, `front-${k + 1}`, now, now);
      ids.push(d.id);
    }
  });
  return ids;
}

/** CPU time (user + system, all threads: the collector's too) since `from`, in ms. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
};

export const bench: Bench = {
  name: 'autoscale',
  summary: 'autoscaling decision tick over many services, and reaction time to a metric crossing its target',
  flags: {
    services: 'autoscaled services (one deployment each, default 1000)',
    instances: 'instances per service (default 100)',
    ticks: 'ticks measured (default 20)',
    interval: 'scaler interval in ms for the reaction trials (default 1000)',
    trials: 'reaction trials (default 10)',
  },
  async run(f) {
    const o = {
      services: f.services ?? 1000,
      instances: f.instances ?? 100,
      ticks: Math.max(1, f.ticks ?? 20),
      interval: Math.max(10, f.interval ?? 1000),
      trials: Math.max(1, f.trials ?? 10),
    };
    const dir = mkdtempSync(join(tmpdir(), 'cg-bench-autoscale-'));
    const log = createLogger({ level: 'silent' });
    try {
      const model = createGatewayModel(openGatewayStore(join(dir, 'gateway.db'), { log }));
      progress(`populating ${o.services} services × ${o.instances} instances`);
      const ids = populate(model, o.services, o.instances);
      const reports = new Map<string, Report>();
      let kicks: Array<{ id: string; at: number }> = [];
      const scaler = createScaler({
        model,
        report: (id) => reports.get(id),
        kick: (id) => kicks.push({ id, at: performance.now() }),
        log,
        intervalMs: o.interval,
      });
      // Heartbeats, as liveness takes them: kept, and handed to the scaler.
      const at = (rps: number, depIndex?: number) => {
        const t = Date.now();
        const list = depIndex === undefined ? ids : [ids[depIndex]!];
        for (const d of list)
          for (let k = 0; k < o.instances; k++) {
            const r = { at: t, values: { rps }, busy: false };
            reports.set(`${d}-i${k}`, r);
            scaler.heard(`${d}-i${k}`, r);
          }
      };
      at(100);
      scaler.tick();
      const ticks: number[] = [];
      const tickCpu = process.cpuUsage();
      for (let k = 0; k < o.ticks; k++) {
        const t0 = performance.now();
        const r = scaler.tick();
        ticks.push(performance.now() - t0);
        if (r.decided !== o.services || r.changed !== 0)
          throw new Error(`tick decided ${r.decided}, changed ${r.changed}`);
      }
      const tickCpuMs = cpuMs(tickCpu) / o.ticks;
      progress(`tick p50 ${round(percentile(ticks, 50), 1)} ms`);

      // The decisions alone, on inputs built once.
      const policy = parseCluster(cluster(o.instances * 4)).services[0]!;
      if (policy.type !== 'scalable' || !policy.autoscale) throw new Error('no policy');
      const inputs = ids.map((d) => ({
        policy: policy.autoscale!,
        min: 1,
        max: o.instances * 4,
        wanted: o.instances,
        now: Date.now(),
        instances: Array.from({ length: o.instances }, (_, k) => ({
          id: `${d}-i${k}`,
          createdAt: 0,
          ready: true,
          report: reports.get(`${d}-i${k}`)!,
        })),
      }));
      const decides: number[] = [];
      const decideCpu = process.cpuUsage();
      for (let k = 0; k < o.ticks; k++) {
        const t0 = performance.now();
        for (const input of inputs) decide(input);
        decides.push(performance.now() - t0);
      }
      const decideCpuMs = cpuMs(decideCpu) / o.ticks;

      // Reaction: one service's metric jumps at a random moment of the scaler's cycle.
      scaler.start();
      const reactions: number[] = [];
      for (let k = 0; k < o.trials; k++) {
        await new Promise((r) => setTimeout(r, Math.random() * o.interval));
        kicks = [];
        const t0 = performance.now();
        at(400, k);
        while (!kicks.some((x) => x.id === ids[k])) await new Promise((r) => setTimeout(r, 1));
        reactions.push(kicks.find((x) => x.id === ids[k])!.at - t0);
        if ((model.wanted.get(ids[k]!, 'front') ?? 0) <= o.instances)
          throw new Error(`trial ${k}: wanted ${model.wanted.get(ids[k]!, 'front')}`);
      }
      scaler.stop();
      model.db.close();
      const stats = (xs: number[]) => ({
        p50: round(percentile(xs, 50), 2),
        p99: round(percentile(xs, 99), 2),
        max: round(Math.max(...xs), 2),
      });
      return {
        benchmark: 'autoscale',
        ...o,
        machine: machine('none'),
        load_avg_1m: round(loadavg()[0]!, 1),
        tick_ms: stats(ticks),
        decide_ms: stats(decides),
        tick_cpu_ms: round(tickCpuMs, 2),
        decide_cpu_ms: round(decideCpuMs, 2),
        reaction_ms: stats(reactions),
        target_tick_ms: 50,
        tick_under_target: percentile(ticks, 99) < 50,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
