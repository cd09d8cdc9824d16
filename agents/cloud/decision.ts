/**
 * The admission decision, written once: how many more instances of a size an owner may
 * have on this cloud, from the ACL, the quota, and the cloud's free capacity less what is
 * recorded but not created yet. Allocation, discovery and the presence all ask here, so
 * they cannot disagree about who may have what.
 */
import type { Logger } from '../../core/index.js';
import type { Capacity, CloudDriver } from '../../drivers/index.js';
import type { CloudConfig } from './config.js';
import type { Fit, Policy, Size, Usage } from './policy.js';
import type { CloudStore } from './store.js';

export interface AdmissionFacts {
  cloud: string;
  owner: string;
  /** The generic flavor name, for the refusal message. */
  flavor: string;
  size: Size;
  count: number;
  /** The owner is in the ACL. */
  allowed: boolean;
  /** What the quota lets through (Policy.fit). */
  quota: Fit;
  /** The driver's free capacity; undefined when it cannot tell. */
  capacity: Capacity | undefined;
  /** Recorded but not created yet: they hold quota already, but not yet cloud capacity. */
  waiting: Usage;
}

export interface Admission {
  /** How many of the asked instances are admitted (the first ones). */
  admitted: number;
  /** Why fewer were admitted: the first limit that bound. */
  condition?: 'not-in-acl' | 'quota-exceeded' | 'capacity';
  reason?: string;
}

/** The decision itself, from facts gathered by the caller: ACL, then quota, then capacity. */
export function decideAdmission(f: AdmissionFacts): Admission {
  if (!f.allowed)
    return { admitted: 0, condition: 'not-in-acl', reason: `${f.owner} may not use cloud ${f.cloud} (not in its ACL)` };
  let admitted = f.count;
  let condition: Admission['condition'];
  const reasons: string[] = [];
  if (f.quota.fits < admitted) {
    admitted = Math.max(0, f.quota.fits);
    condition = 'quota-exceeded';
    reasons.push(`quota exceeded: ${f.quota.limit}`);
  }
  const room = instancesIn(capacityLeft(f.capacity, f.waiting), f.size);
  if (room < admitted) {
    admitted = room;
    condition ??= 'capacity';
    reasons.push(`cloud ${f.cloud} has no free capacity for more than ${room} more ${f.flavor} instance(s)`);
  }
  return { admitted, condition, reason: reasons.length ? reasons.join('; ') : undefined };
}

/** Free capacity less what is waiting to be created; an absent dimension is unlimited. */
export function capacityLeft(free: Capacity | undefined, waiting: Usage): Capacity {
  const less = (v: number | undefined, used: number) => (v === undefined ? undefined : Math.max(0, v - used));
  return {
    instances: less(free?.instances, waiting.instances),
    cores: less(free?.cores, waiting.cores),
    memoryMb: less(free?.memoryMb, waiting.memoryMb),
  };
}

/** How many instances of `size` fit in `free` (Infinity when nothing limits them). */
export function instancesIn(free: Capacity, size: Size): number {
  const n = (v: number | undefined, each: number) => (v === undefined || each === 0 ? Infinity : Math.floor(v / each));
  return Math.min(n(free.instances, 1), n(free.cores, size.cores), n(free.memoryMb, size.memoryMb));
}

export type AdmissionGate = ReturnType<typeof admissionGate>;

/** Gathers the facts (configuration, database, driver) and asks decideAdmission. */
export function admissionGate({
  config,
  store,
  policy,
  driver,
  log,
}: {
  config: CloudConfig;
  store: CloudStore;
  policy: Policy;
  driver: CloudDriver;
  log: Logger;
}) {
  async function capacity(): Promise<Capacity | undefined> {
    if (!driver.features.has('capacity') || !driver.capacity) return undefined;
    try {
      return await driver.capacity();
    } catch (err) {
      log.warn({ error: String((err as Error)?.message) }, 'capacity query failed; the cloud will decide');
      return undefined;
    }
  }

  function waiting(): Usage {
    return store
      .requested()
      .reduce(
        (u, r) => ({ instances: u.instances + 1, cores: u.cores + r.cores, memoryMb: u.memoryMb + r.memory_mb }),
        { instances: 0, cores: 0, memoryMb: 0 },
      );
  }

  return {
    async decide(ask: {
      owner: string;
      groups: readonly string[];
      flavor: string;
      size: Size;
      count: number;
    }): Promise<Admission> {
      const allowed = policy.allowed(ask.owner, ask.groups);
      const quota = allowed ? policy.fit(ask.owner, ask.groups, ask.size, ask.count) : { fits: 0 };
      // Neither a refused owner nor an empty ask needs the cloud.
      const cap = allowed && quota.fits > 0 ? await capacity() : undefined;
      return decideAdmission({
        cloud: config.name,
        owner: ask.owner,
        flavor: ask.flavor,
        size: ask.size,
        count: ask.count,
        allowed,
        quota,
        capacity: cap,
        waiting: waiting(),
      });
    },

    /** What the whole cloud can still host (for the presence): the quota headroom and the capacity left, the smaller of each. */
    async free(): Promise<Capacity> {
      const q = policy.free();
      const c = capacityLeft(await capacity(), waiting());
      const min = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
      return {
        instances: min(q.instances, c.instances),
        cores: min(q.cores, c.cores),
        memoryMb: min(q.memoryMb, c.memoryMb),
      };
    },
  };
}
