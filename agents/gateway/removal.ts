/**
 * Taking instances away: draining busy ones first (scale-in), terminating through their
 * cloud agent, and confirming the end. An instance is 'terminating' from the moment the
 * decision is stored; it is 'terminated' when its cloud reports so, or when the cloud's
 * own list no longer shows it after terminate_timeout (a report may have been lost, or
 * the cloud never created it).
 */
import type { Agent, Logger } from '../../core/index.js';
import { instance as iproto } from '../../protocols/index.js';
import type { Allocator } from './allocator.js';
import { cloudName } from './allocator.js';
import type { Clouds } from './clouds.js';
import type { Liveness } from './liveness.js';
import type { Deployment, GatewayModel, Instance } from './model/index.js';
import { canTransition, INSTANCE_STATES } from './model/index.js';

export function createRemoval(deps: {
  agent: Agent;
  model: GatewayModel;
  allocator: Allocator;
  clouds: Clouds;
  liveness: Liveness;
  log: Logger;
  drainTimeoutMs: number;
  terminateTimeoutMs: number;
  changed: (deploymentId: string) => void;
  now?: () => number;
}) {
  const { agent, model, allocator, clouds, liveness, log, changed } = deps;
  const now = deps.now ?? Date.now;
  const drainSent = new Set<string>();
  const idle = new Set<string>();
  /** When the instance answered a drain request that it was still busy. */
  const busyAt = new Map<string, number>();
  const checked = new Map<string, number>();

  /** Moves instances to 'terminating' and asks their clouds to remove them (all at once per cloud). */
  async function terminate(
    dep: Deployment,
    instances: readonly Instance[],
    opts: { all?: boolean } = {},
  ): Promise<void> {
    const byCloud = new Map<string, string[]>();
    for (const stale of instances) {
      // Rows read before an await may have moved on since.
      const i = model.instances.get(stale.id);
      if (!i || !canTransition(INSTANCE_STATES, i.state, 'terminating')) continue;
      model.instances.transition(i.id, 'terminating');
      liveness.forget(i);
      byCloud.set(i.cloud, [...(byCloud.get(i.cloud) ?? []), i.name]);
    }
    for (const [cloud, names] of byCloud) await allocator.terminate(dep, cloud, opts.all ? [] : names);
    if (byCloud.size) changed(dep.id);
  }

  async function drain(i: Instance): Promise<void> {
    drainSent.add(i.id);
    const to = liveness.fullJid(i.id);
    if (!to) return;
    try {
      const r = await agent.request(iproto.Drain, to, {}, { timeoutMs: 10_000 });
      if (r.idle) idle.add(i.id);
      else busyAt.set(i.id, now());
    } catch (err) {
      log.warn(
        { err, instance: i.id },
        'drain request failed; the instance will be terminated when the drain times out',
      );
    }
    changed(i.deploymentId);
  }

  return {
    terminate,
    /** Scale-in of running instances: drain first (they stop taking work), others go at once. */
    async remove(dep: Deployment, victims: readonly Instance[]): Promise<void> {
      const now_ = victims.filter((v) => v.state !== 'running' || !liveness.fullJid(v.id));
      const draining = victims.filter((v) => !now_.includes(v) && model.instances.get(v.id)?.state === 'running');
      for (const v of draining)
        model.instances.transition(v.id, 'draining', { message: `${v.name} draining (scale-in)` });
      await terminate(dep, now_);
      await Promise.all(draining.map(drain));
    },
    /** Draining instances that are idle, gone, or out of time are terminated. */
    async progressDrains(dep: Deployment, instances: readonly Instance[]): Promise<void> {
      const done: Instance[] = [];
      for (const i of instances) {
        if (i.state !== 'draining') continue;
        if (!drainSent.has(i.id) && liveness.online(i.id)) {
          void drain(i);
          continue;
        }
        // Busy when drained: wait for a later report of it being idle (heartbeat or presence).
        const b = busyAt.get(i.id);
        const report = liveness.busyReport(i.id);
        const nowIdle = b !== undefined && report !== undefined && report.at > b && !report.busy;
        if (
          idle.has(i.id) ||
          nowIdle ||
          liveness.phase(i.id) === 'drained' ||
          !liveness.online(i.id) ||
          now() - i.updatedAt > deps.drainTimeoutMs
        )
          done.push(i);
      }
      if (done.length) await terminate(dep, done);
    },
    /** Failed instances may still exist at their cloud: remove them. */
    async retireFailed(): Promise<void> {
      const failed = model.instances.inStates(['failed']);
      const byDep = new Map<string, Instance[]>();
      for (const i of failed) byDep.set(i.deploymentId, [...(byDep.get(i.deploymentId) ?? []), i]);
      for (const [id, list] of byDep) await terminate(model.deployments.require(id), list);
    },
    /** Terminations not confirmed in time are checked against the cloud's own list. */
    async confirmTerminations(): Promise<void> {
      const t = now();
      const due = model.instances
        .inStates(['terminating'])
        .filter((i) => t - Math.max(i.updatedAt, checked.get(i.id) ?? 0) > deps.terminateTimeoutMs);
      const groups = new Map<string, Instance[]>();
      for (const i of due)
        groups.set(`${i.cloud} ${i.deploymentId}`, [...(groups.get(`${i.cloud} ${i.deploymentId}`) ?? []), i]);
      for (const list of groups.values()) {
        const { cloud, deploymentId } = { cloud: list[0]!.cloud, deploymentId: list[0]!.deploymentId };
        for (const i of list) checked.set(i.id, t);
        const listed = await clouds.listInstances(cloud, deploymentId);
        if (!listed) continue;
        const alive = new Map(
          listed
            .filter((l) => l.state === 'pending' || l.state === 'running' || l.state === 'stopping')
            .map((l) => [l.name, l]),
        );
        const stubborn: string[] = [];
        for (const i of list) {
          if (alive.has(cloudName(deploymentId, i.name))) {
            stubborn.push(i.name);
            continue;
          }
          if (model.instances.get(i.id)?.state !== 'terminating') continue;
          model.instances.transition(i.id, 'terminated', {
            message: `${i.name} terminated (no longer listed by its cloud)`,
          });
          checked.delete(i.id);
        }
        if (stubborn.length) await allocator.terminate(model.deployments.require(deploymentId), cloud, stubborn);
        changed(deploymentId);
      }
    },
  };
}

export type Removal = ReturnType<typeof createRemoval>;
