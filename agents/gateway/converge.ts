/**
 * One step of bringing a deployment to what it should be. Everything is derived from the
 * database (definition, wanted counts, instances), so a step after a restart picks up
 * exactly where the last one left off, and running a step twice does nothing twice.
 *
 * Stages run in deploy order: fixed services by `order`, then the scalable services; a
 * stage starts only when the one before is ready. Missing instances are placed (overflowing
 * to the next cloud, with fixed-service replicas there), extra ones removed (scale-in
 * picks idle, drained, overflow-cloud instances first), instances that do not become
 * ready in time are failed, and clouds that failed a service during the current jobs are
 * avoided for it.
 */
import type { Logger } from '../../core/index.js';
import { ContextUnavailableError, type Allocator } from './allocator.js';
import type { Clouds } from './clouds.js';
import { ACTIVE, extraReplicas, isActive, missingReplicas, stages, summarize } from './desired.js';
import type { Liveness } from './liveness.js';
import {
  pickScaleIn,
  PlacementError,
  type Deployment,
  type GatewayModel,
  type Instance,
  type ServiceDef,
} from './model/index.js';
import type { Planner } from './planner.js';
import type { Removal } from './removal.js';
import { fail } from './tracker.js';

export type StepResult =
  | { type: 'waiting' }
  | { type: 'converged' }
  /** Nothing (more) fits now; `offline` when a configured cloud is away and may bring room. */
  | { type: 'blocked'; reason: string; offline: boolean }
  | { type: 'failed'; reason: string };

/** How many instances of a service may fail on one cloud during a job before it is no longer tried there. */
const RETRIES = 3;
/** Failure reasons of instances that died or vanished at the cloud (tracker.ts). */
const TRANSIENT = /^(error at the cloud|terminated by the cloud|stopping at the cloud)|no longer lists it$/;

export function createConverger(deps: {
  model: GatewayModel;
  planner: Planner;
  allocator: Allocator;
  removal: Removal;
  liveness: Liveness;
  clouds: Clouds;
  log: Logger;
  readyTimeoutMs: number;
  now?: () => number;
}) {
  const { model, planner, allocator, removal, liveness, clouds, log } = deps;
  const now = deps.now ?? Date.now;

  /**
   * Clouds that failed `service` since `since` (refused, errors, never ready), with why,
   * how often, and whether every failure there was one a retry may cure (the instance died
   * or vanished at the cloud; not a refusal, a context that fails or an agent never ready).
   */
  const failedClouds = (instances: readonly Instance[], service: string, since: number) => {
    const m = new Map<string, { reason: string; count: number; transient: boolean }>();
    for (const i of instances) {
      if (i.service !== service || !i.reason || i.createdAt < since || i.reason.startsWith('lost')) continue;
      const prev = m.get(i.cloud);
      m.set(i.cloud, {
        reason: `failed here: ${i.reason}`,
        count: (prev?.count ?? 0) + 1,
        transient: (prev?.transient ?? true) && TRANSIENT.test(i.reason),
      });
    }
    return m;
  };

  async function place(
    dep: Deployment,
    svc: ServiceDef,
    count: number,
    instances: readonly Instance[],
    since: number,
  ): Promise<StepResult | undefined> {
    const failed = failedClouds(instances, svc.name, since);
    const retryable = (f: { count: number; transient: boolean }) => f.transient && f.count < RETRIES;
    const excluded = (retry: boolean) =>
      new Map([...failed].filter(([, f]) => !retry || !retryable(f)).map(([c, f]) => [c, f.reason]));
    try {
      let plan;
      try {
        // Clouds where the service failed during this job come last: first try elsewhere (overflow)...
        plan = await planner.plan(dep, svc, count, instances, excluded(false));
      } catch (err) {
        // ...then, when nowhere else has room, retry where instances only died, fewer than
        // RETRIES times (a crashed instance on the only cloud is not the end of the deployment).
        if (!(err instanceof PlacementError) || ![...failed.values()].some(retryable)) throw err;
        log.info(
          { deployment: dep.id, service: svc.name, failed: Object.fromEntries(failed) },
          'no other cloud has room: retrying where the service failed',
        );
        plan = await planner.plan(dep, svc, count, instances, excluded(true));
      }
      for (const r of plan.replicas) await allocator.allocate(dep, r.service, r.cloud, r.count, { replica: true });
      for (const p of plan.placements) await allocator.allocate(dep, svc.name, p.cloud, p.count);
      return undefined;
    } catch (err) {
      // A cloud that was offline while planning (or is now), or that could not be asked
      // (its session is being re-established after a server restart), may bring room:
      // worth waiting for, up to the placement timeout.
      if (err instanceof PlacementError) {
        const unreachable = (r: { reason: string }) => r.reason === 'offline' || /discover failed/.test(r.reason);
        return {
          type: 'blocked',
          reason: err.message,
          offline: err.refusals.some(unreachable) || clouds.list().some((c) => !c.online),
        };
      }
      if (err instanceof ContextUnavailableError) return { type: 'failed', reason: err.message };
      throw err;
    }
  }

  async function scaleIn(dep: Deployment, active: readonly Instance[], n: number): Promise<void> {
    // A work-queue policy names the metric that says an instance runs a job (autoscale/queue.ts).
    const policy = active[0] && model.autoscale.setting(dep, active[0].service).policy;
    const metric = policy?.type === 'queue' ? policy.busyMetric : undefined;
    const busy = (id: string) =>
      liveness.busy(id) || (metric !== undefined && (liveness.report(id)?.values[metric] ?? 0) > 0);
    const victims = pickScaleIn(
      active.map((i) => ({
        id: i.id,
        inst: i,
        busy: busy(i.id),
        ready: i.ready,
        load: liveness.load(i.id),
        cloudRank: clouds.get(i.cloud).rank,
        createdAt: i.createdAt,
      })),
      n,
    ).map((c) => c.inst);
    log.info({ deployment: dep.id, victims: victims.map((v) => v.name) }, 'scaling in');
    await removal.remove(dep, victims);
  }

  return {
    /** One step for `dep`; `since` is when the oldest unfinished job started. */
    async step(dep: Deployment, since: number): Promise<StepResult> {
      const def = dep.definition;
      const wanted = model.wanted.all(dep.id);
      // Read again only after something was written: a step looks at the instances several
      // times, mostly with nothing written in between, and a large deployment's read is the
      // cost of a step. total_changes() counts every write of this (the only) connection.
      let cached: { changes: number; list: Instance[] } | undefined;
      const load = (): Instance[] => {
        const changes = model.db.prepare('SELECT total_changes()').pluck().get() as number;
        if (cached?.changes !== changes) cached = { changes, list: model.instances.list(dep.id) };
        return cached.list;
      };
      let instances = load();

      const total = [...wanted.values()].reduce((a, b) => a + b, 0);
      const failures = instances.filter((i) => i.reason && !i.reason.startsWith('lost') && i.createdAt >= since).length;
      if (failures > Math.max(3, 2 * total))
        return { type: 'failed', reason: `${failures} instances failed; giving up` };

      // Not ready in time: never came up, or its agent is up and stays not ready (a failing
      // context, a wrong version). An agent that went away is liveness's business (lost).
      for (const i of instances) {
        if (i.ready || !ACTIVE.includes(i.state)) continue;
        const from = i.state === 'running' ? liveness.readySince(i.id) : i.createdAt;
        if (from !== undefined && now() - Math.max(from, i.createdAt) > deps.readyTimeoutMs) {
          fail(model, i, `not ready within ${Math.round(deps.readyTimeoutMs / 1000)} s`);
        }
      }
      await removal.retireFailed();
      await removal.progressDrains(dep, load());
      // A replica placed while its cloud's home instance was lost is surplus once the home
      // one is replaced; the fixed stage counts both and would wait for ever: remove it first.
      const surplus = extraReplicas(def, load());
      if (surplus.length) await removal.terminate(dep, surplus);

      for (const stage of stages(def)) {
        for (const svc of stage) {
          instances = load();
          const w = wanted.get(svc.name) ?? 0;
          const mine = instances.filter((i) => isActive(i) && i.service === svc.name && !i.replica);
          if (mine.length < w) {
            const r = await place(dep, svc, w - mine.length, instances, since);
            if (r) return r;
          } else if (mine.length > w) {
            if (svc.type === 'scalable') await scaleIn(dep, mine, mine.length - w);
            else
              await removal.terminate(
                dep,
                [...mine].sort((a, b) => b.createdAt - a.createdAt).slice(0, mine.length - w),
              );
          }
        }
        if (stage[0]!.type === 'scalable') {
          instances = load();
          for (const need of missingReplicas(def, instances)) {
            if (!clouds.get(need.cloud).online) continue;
            try {
              await allocator.allocate(dep, need.service, need.cloud, 1, { replica: true });
            } catch (err) {
              if (err instanceof ContextUnavailableError) return { type: 'failed', reason: err.message };
              throw err;
            }
          }
          const extra = extraReplicas(def, load());
          if (extra.length) await removal.terminate(dep, extra);
        }
        instances = load();
        // The next stage may start once this one has enough ready instances. Extras (a
        // replica whose cloud emptied) do not hold it back: the scalable stage removes them.
        const sums = summarize(def, wanted, instances).filter((s) => stage.some((x) => x.name === s.name));
        if (!sums.every((s) => s.ready >= s.wanted)) return { type: 'waiting' };
      }
      // Every stage is ready; removals still under way are the jobs' concern (scale-in waits
      // for them, a deploy does not).
      return { type: 'converged' };
    },

    /** One step of destroying `dep`: everything to terminating, then wait for confirmations. */
    async teardown(dep: Deployment): Promise<boolean> {
      const instances = model.instances.list(dep.id);
      const open = instances.filter((i) => i.state !== 'terminated' && i.state !== 'terminating');
      if (open.length) await removal.terminate(dep, open, { all: true });
      return model.instances.list(dep.id).every((i) => i.state === 'terminated');
    },
  };
}

export type Converger = ReturnType<typeof createConverger>;
