/**
 * What a deployment should look like, computed from its definition, its wanted counts and
 * its instances; pure, so the engine, the views and the chat progress agree.
 *
 * Active instances (requested, booting, running) count towards a service; draining and
 * terminating ones are on their way out. Every cloud that hosts active scalable instances
 * needs one active instance of each fixed service (the home instances, or a replica).
 */
import type { ClusterDef, Instance, InstanceState, ServiceDef } from './model/index.js';

export const ACTIVE: readonly InstanceState[] = ['requested', 'booting', 'running'];
export const LEAVING: readonly InstanceState[] = ['draining', 'terminating'];
export const isActive = (i: Instance): boolean => ACTIVE.includes(i.state);

/** Deploy stages: fixed services grouped by order (in deploy order), then all scalable services. */
export function stages(def: ClusterDef): ServiceDef[][] {
  const out: ServiceDef[][] = [];
  let lastOrder: number | undefined;
  for (const s of def.services) {
    if (s.type === 'fixed') {
      if (lastOrder === s.order && out.length) out[out.length - 1]!.push(s);
      else out.push([s]);
      lastOrder = s.order;
    }
  }
  const scalable = def.services.filter((s) => s.type === 'scalable');
  if (scalable.length) out.push(scalable);
  return out;
}

/** Clouds with active scalable instances. */
export function scalableClouds(def: ClusterDef, instances: readonly Instance[]): Set<string> {
  const scalable = new Set(def.services.filter((s) => s.type === 'scalable').map((s) => s.name));
  return new Set(instances.filter((i) => isActive(i) && scalable.has(i.service)).map((i) => i.cloud));
}

/** Fixed-service replicas that should exist and do not: one per (fixed service, cloud). */
export function missingReplicas(
  def: ClusterDef,
  instances: readonly Instance[],
): Array<{ service: string; cloud: string }> {
  const out: Array<{ service: string; cloud: string }> = [];
  const clouds = scalableClouds(def, instances);
  for (const f of def.services) {
    if (f.type !== 'fixed') continue;
    // No active home instance: the fixed stage replaces it first (on its cloud, or elsewhere);
    // a replica made meanwhile on the home's cloud would be surplus once it is back.
    if (!instances.some((i) => isActive(i) && !i.replica && i.service === f.name)) continue;
    for (const c of clouds) {
      if (!instances.some((i) => isActive(i) && i.service === f.name && i.cloud === c))
        out.push({ service: f.name, cloud: c });
    }
  }
  return out;
}

/** Active replicas no longer needed: their cloud hosts no scalable instance, or a second one. */
export function extraReplicas(def: ClusterDef, instances: readonly Instance[]): Instance[] {
  const clouds = scalableClouds(def, instances);
  const out: Instance[] = [];
  const kept = new Set<string>();
  for (const i of instances) {
    if (!i.replica || !isActive(i)) continue;
    const key = `${i.service} ${i.cloud}`;
    const home = instances.some((h) => !h.replica && isActive(h) && h.service === i.service && h.cloud === i.cloud);
    if (!clouds.has(i.cloud) || home || kept.has(key)) out.push(i);
    else kept.add(key);
  }
  return out;
}

export interface ServiceSummary {
  readonly name: string;
  readonly type: 'fixed' | 'scalable';
  /** For a fixed service: its count plus the replicas overflow clouds need. */
  readonly wanted: number;
  readonly active: number;
  readonly ready: number;
}

export function summarize(
  def: ClusterDef,
  wanted: ReadonlyMap<string, number>,
  instances: readonly Instance[],
): ServiceSummary[] {
  const clouds = scalableClouds(def, instances);
  return def.services.map((s) => {
    const mine = instances.filter((i) => i.service === s.name && isActive(i));
    let w = wanted.get(s.name) ?? (s.type === 'fixed' ? s.count : s.initial);
    if (s.type === 'fixed' && w > 0) {
      const home = new Set(mine.filter((i) => !i.replica).map((i) => i.cloud));
      w += [...clouds].filter((c) => !home.has(c)).length;
    }
    return { name: s.name, type: s.type, wanted: w, active: mine.length, ready: mine.filter((i) => i.ready).length };
  });
}

/** Every service at its wanted count, every active instance ready, replicas where needed. */
export function converged(
  def: ClusterDef,
  wanted: ReadonlyMap<string, number>,
  instances: readonly Instance[],
  only?: string,
): boolean {
  const sums = summarize(def, wanted, instances).filter((s) => only === undefined || s.name === only);
  return (
    sums.every((s) => s.active === s.wanted && s.ready === s.wanted) &&
    !instances.some((i) => (only === undefined || i.service === only) && LEAVING.includes(i.state))
  );
}
