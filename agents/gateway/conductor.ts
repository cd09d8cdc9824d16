/**
 * Drives jobs to their end. A job is stored before anything is done for it; while a
 * deployment has unfinished jobs, every change that concerns it (a report, a timer) runs a
 * converge step, one at a time per deployment, and each running job ends when its goal
 * holds: deploy when every stage is ready (the deployment is then completed), scale and
 * replace when their service is at its wanted count with nothing left draining, destroy
 * when every instance is terminated. On start every unfinished job simply resumes.
 */
import type { Logger } from '../../core/index.js';
import type { Converger, StepResult } from './converge.js';
import { converged, isActive } from './desired.js';
import type { Liveness } from './liveness.js';
import type { Deployment, GatewayModel, Instance, Job } from './model/index.js';
import type { Removal } from './removal.js';

/** The shortest time between the end of a step of a deployment and the start of its next. */
const SETTLE_MS = 20;
/**
 * A step reads every instance of its deployment (about 10 µs each), so its cost grows with
 * the deployment: the pause after a step also grows with it, 0.1 ms per instance up to
 * MAX_SETTLE_MS, which keeps steps to a bounded share of the gateway however large the
 * deployment (a thousand-instance deployment's reports had spent most of the gateway's
 * CPU on steps 20 ms apart).
 */
const SETTLE_MS_PER_INSTANCE = 0.1;
const MAX_SETTLE_MS = 500;

const unfinished = (j: Job) => j.state === 'queued' || j.state === 'running';

export function createConductor(deps: {
  model: GatewayModel;
  converger: Converger;
  removal: Removal;
  liveness: Liveness;
  log: Logger;
  placementTimeoutMs: number;
  tickMs: number;
  now?: () => number;
}) {
  const { model, converger, removal, liveness, log } = deps;
  const now = deps.now ?? Date.now;
  const busy = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const cooling = new Map<string, NodeJS.Timeout>();
  const blockedSince = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let sweeping = false;
  let stopped = false;

  function kick(deploymentId: string): void {
    if (stopped) return;
    if (busy.has(deploymentId) || cooling.has(deploymentId)) {
      again.add(deploymentId);
      return;
    }
    // Started on the next microtask, so that a kick from inside the step finds it busy.
    let size = 0;
    const p = Promise.resolve()
      .then(async () => {
        size = await pass(deploymentId);
      })
      .catch((err) => log.error({ err, deployment: deploymentId }, 'deployment step failed'))
      .finally(() => {
        busy.delete(deploymentId);
        if (stopped) return;
        // A pause between a step and the next: a large deployment's burst of reports costs
        // a few steps (each reads every instance), not one per report; a report after a
        // quiet spell is acted on at once.
        cooling.set(
          deploymentId,
          setTimeout(
            () => {
              cooling.delete(deploymentId);
              if (again.delete(deploymentId)) kick(deploymentId);
            },
            Math.min(MAX_SETTLE_MS, Math.max(SETTLE_MS, size * SETTLE_MS_PER_INSTANCE)),
          ),
        );
      });
    busy.set(deploymentId, p);
  }

  function failJobs(dep: Deployment, jobs: readonly Job[], reason: string): void {
    model.transaction(() => {
      for (const j of jobs)
        if (unfinished(model.jobs.require(j.id))) model.jobs.transition(j.id, 'failed', { error: reason });
      // A scale that could not be done leaves the service at what it has, within its bounds.
      for (const s of dep.definition.services) {
        if (
          s.type !== 'scalable' ||
          !jobs.some((j) => j.kind !== 'deploy' && (j.request as { service?: string } | null)?.service === s.name)
        )
          continue;
        const has = model.instances.list(dep.id, { service: s.name }).filter(isActive).length;
        const keep = Math.min(s.max, Math.max(s.min, has));
        if (keep !== model.wanted.get(dep.id, s.name)) {
          model.wanted.set(dep.id, s.name, keep);
          model.events.append(dep.id, {
            type: 'scale',
            message: `${s.name}: wanted set back to ${keep}`,
            data: { service: s.name, wanted: keep },
          });
        }
      }
      const d = model.deployments.require(dep.id);
      if (jobs.some((j) => j.kind === 'deploy') && (d.state === 'pending' || d.state === 'running')) {
        model.deployments.transition(dep.id, 'failed', { message: `deployment failed: ${reason}` });
      }
    });
    blockedSince.delete(dep.id);
  }

  /** One step of a deployment's unfinished jobs; answers how many instances it has (0 when it did not look). */
  async function pass(deploymentId: string): Promise<number> {
    let dep = model.deployments.get(deploymentId);
    if (!dep) return 0;
    let jobs = model.jobs.list(deploymentId).filter(unfinished);
    if (jobs.length === 0) return 0;
    for (const j of jobs) if (j.state === 'queued') model.jobs.transition(j.id, 'running');
    jobs = model.jobs.list(deploymentId).filter(unfinished);

    if (dep.destroyedAt !== undefined) {
      if (!(await converger.teardown(dep))) return 0;
      model.transaction(() => {
        for (const j of model.jobs.list(deploymentId).filter(unfinished))
          model.jobs.transition(j.id, j.kind === 'destroy' ? 'succeeded' : 'cancelled');
        const d = model.deployments.require(deploymentId);
        if (d.state === 'pending' || d.state === 'running')
          model.deployments.transition(deploymentId, 'aborted', { message: 'destroyed before it completed' });
        model.events.append(deploymentId, {
          type: 'destroyed',
          message: 'deployment destroyed: every instance terminated',
        });
      });
      return 0;
    }
    if (dep.state === 'pending') dep = model.deployments.transition(deploymentId, 'running', { message: 'deploying' });

    const since = Math.min(...jobs.map((j) => j.createdAt));
    const r: StepResult = await converger.step(dep, since);
    // The world moved during the step (a destroy, a newer scale): judge with fresh rows.
    dep = model.deployments.require(deploymentId);
    jobs = model.jobs.list(deploymentId).filter((j) => j.state === 'running');
    if (dep.destroyedAt !== undefined || jobs.length === 0) {
      again.add(deploymentId);
      return 0;
    }
    if (r.type === 'failed') {
      failJobs(dep, jobs, r.reason);
      return 0;
    }
    if (r.type === 'blocked') {
      const first = blockedSince.get(deploymentId) ?? now();
      if (!blockedSince.has(deploymentId)) {
        blockedSince.set(deploymentId, first);
        model.events.append(deploymentId, {
          type: 'placement',
          message: `waiting: ${r.reason}`,
          data: { offline: r.offline },
        });
      }
      if (!r.offline || now() - first > deps.placementTimeoutMs) failJobs(dep, jobs, r.reason);
      return 0;
    }
    blockedSince.delete(deploymentId);

    const wanted = model.wanted.all(deploymentId);
    const instances = model.instances.list(deploymentId);
    model.transaction(() => {
      for (const j of jobs) {
        const service = (j.request as { service?: string } | null)?.service;
        const done =
          j.kind === 'deploy' ? r.type === 'converged' : converged(dep.definition, wanted, instances, service);
        if (!done) continue;
        model.jobs.transition(j.id, 'succeeded');
        if (j.kind === 'deploy' && model.deployments.require(deploymentId).state === 'running') {
          const n = instances.filter(isActive).length;
          model.deployments.transition(deploymentId, 'completed', {
            message: `deployment completed: ${n} instance(s) ready`,
          });
        }
      }
    });
    return instances.length;
  }

  /**
   * An instance was lost. A running job brings its service back to the wanted count on its
   * own; otherwise a replace job does. The wanted count is what the owner asked for, so a
   * lost worker is replaced like a lost head: a cluster that loses machines heals back to
   * its size (scaling down is the owner's, or the scaler's, decision, never a fault's).
   */
  function lost(i: Instance): void {
    const dep = model.deployments.get(i.deploymentId);
    if (!dep || dep.destroyedAt !== undefined || dep.state === 'failed' || dep.state === 'aborted') return;
    const svc = dep.definition.services.find((s) => s.name === i.service);
    if (!svc) return;
    if (!model.jobs.list(dep.id).some(unfinished)) {
      const wanted = model.wanted.get(dep.id, svc.name);
      model.transaction(() => {
        model.jobs.create(dep.id, 'replace', { service: svc.name, instance: i.id });
        model.events.append(dep.id, {
          type: 'replace',
          message: `${i.name} will be replaced${i.replica ? ' (replica)' : ''}: ${svc.name} back to ${wanted ?? 'its count'}`,
          data: { service: svc.name, instance: i.id },
        });
      });
    }
    kick(dep.id);
  }

  async function sweep(): Promise<void> {
    if (sweeping) return;
    sweeping = true;
    try {
      liveness.sweep();
      await removal.retireFailed();
      await removal.confirmTerminations();
      for (const id of new Set(model.jobs.unfinished().map((j) => j.deploymentId))) kick(id);
    } catch (err) {
      log.error({ err }, 'sweep failed');
    } finally {
      sweeping = false;
    }
  }

  return {
    kick,
    lost,
    sweep,
    start(): void {
      // Jobs left unfinished by an earlier run (a crash, a restart) go on from the database.
      for (const j of model.jobs.unfinished()) {
        model.events.append(j.deploymentId, {
          type: 'job',
          message: `${j.kind} job resumed (the gateway started again)`,
          data: { job: j.id, kind: j.kind, resumed: true },
        });
      }
      const tick = () => {
        void sweep().finally(() => {
          if (!stopped) {
            timer = setTimeout(tick, deps.tickMs);
            timer.unref();
          }
        });
      };
      tick();
    },
    /**
     * No new steps; waits up to `graceMs` for running ones. A step may be waiting for the
     * connection (a send while offline): the agent's stop fails that wait, so callers stop
     * the agent next and then wait for what is left with idle().
     */
    async stop(graceMs = 3000): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      for (const t of cooling.values()) clearTimeout(t);
      cooling.clear();
      let t: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...busy.values()]),
        new Promise<void>((r) => {
          t = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(t);
    },
    /** Resolves when no step is running (tests). */
    async idle(): Promise<void> {
      while (busy.size || cooling.size) {
        await Promise.allSettled([...busy.values()]);
        if (cooling.size) await new Promise((r) => setTimeout(r, SETTLE_MS));
      }
    },
  };
}

export type Conductor = ReturnType<typeof createConductor>;
