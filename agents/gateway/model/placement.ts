/**
 * Placement: which cloud gets how many instances of each service. Pure and deterministic;
 * the caller gathers the inputs (cloud presence, ACL, quotas) and carries out the plan.
 *
 * Rules:
 * - Services are placed in the order given (deploy order: fixed first).
 * - A service with a `clouds` list may only go to those clouds, in that order of
 *   preference; otherwise clouds are tried by `rank`, then name.
 * - A fixed service is placed whole in one cloud.
 * - A scalable service fills its preferred clouds in turn and overflows to the next.
 *   Every cloud that hosts scalable instances of a deployment must host one replica of
 *   each fixed service (so every VM finds them on its local network): entering a cloud
 *   that lacks some adds those replicas to the plan, charged to that cloud first, and the
 *   cloud is skipped if the replicas, or one instance after them, do not fit there or a
 *   fixed service's own `clouds` list excludes it.
 * - Free room in a cloud is the smaller of the user's remaining quota there and the
 *   cloud's free capacity, per dimension (instances, cores, memory); absent = unlimited.
 */
import { PlacementError, type CloudRefusal } from './errors.js';

export interface Resources {
  readonly instances: number;
  readonly cores: number;
  readonly memoryMb: number;
}

export interface ServiceRequest {
  readonly name: string;
  readonly type: 'fixed' | 'scalable';
  /** Instances to place now. */
  readonly count: number;
  /** Size of one instance. */
  readonly cores: number;
  readonly memoryMb: number;
  /** Allowed clouds by name or JID, best first; empty or absent means any. */
  readonly clouds?: readonly string[];
}

export interface CloudCandidate {
  readonly name: string;
  /** The cloud agent's JID; a service's `clouds` may name either. */
  readonly jid?: string;
  readonly online: boolean;
  /** The cloud's ACL admits this user. */
  readonly allowed: boolean;
  /** Lower is preferred. */
  readonly rank: number;
  readonly quota?: Partial<Resources>;
  readonly capacity?: Partial<Resources>;
  /** Fixed services of this deployment already running here. */
  readonly hostsFixed?: readonly string[];
}

export interface PlacementInput {
  /** In deploy order. */
  readonly services: readonly ServiceRequest[];
  readonly clouds: readonly CloudCandidate[];
  /** The deployment's fixed services, replicated into clouds that gain scalable
   * instances; defaults to the fixed services among `services` (initial deploy). */
  readonly fixed?: readonly ServiceRequest[];
}

export interface Placement {
  readonly service: string;
  readonly cloud: string;
  readonly count: number;
}

export interface PlacementPlan {
  /** The requested services, in the order to create them. */
  readonly placements: readonly Placement[];
  /** Fixed-service replicas to create first in clouds the cluster overflows into (count 1). */
  readonly replicas: readonly Placement[];
}

const DIMS = ['instances', 'cores', 'memoryMb'] as const;
type Dim = (typeof DIMS)[number];

interface Room {
  quota: Record<Dim, number>;
  capacity: Record<Dim, number>;
}
interface CloudState {
  readonly c: CloudCandidate;
  room: Room;
  readonly hosts: Set<string>;
}

function need(s: ServiceRequest): Record<Dim, number> {
  return { instances: 1, cores: s.cores, memoryMb: s.memoryMb };
}

function room(c: CloudCandidate): Room {
  const r = (p?: Partial<Resources>) =>
    Object.fromEntries(DIMS.map((d) => [d, p?.[d] ?? Infinity])) as Record<Dim, number>;
  return { quota: r(c.quota), capacity: r(c.capacity) };
}

/** How many instances of size `n` fit, and if fewer than `want`, what runs out. */
function fit(r: Room, n: Record<Dim, number>, want: number): { count: number; short?: string } {
  let count = want;
  let short: string | undefined;
  for (const d of DIMS) {
    for (const src of ['quota', 'capacity'] as const) {
      const free = r[src][d];
      const k = n[d] === 0 ? Infinity : Math.floor(free / n[d]);
      if (k < count) {
        count = Math.max(0, k);
        short = `${src} leaves ${free} ${d === 'memoryMb' ? 'MB memory' : d}, one instance needs ${n[d]}`;
      }
    }
  }
  return { count, short };
}

function take(r: Room, n: Record<Dim, number>, k: number): Room {
  const sub = (x: Record<Dim, number>) =>
    Object.fromEntries(DIMS.map((d) => [d, x[d] - n[d] * k])) as Record<Dim, number>;
  return { quota: sub(r.quota), capacity: sub(r.capacity) };
}

function names(c: CloudCandidate): string[] {
  return c.jid ? [c.name, c.jid] : [c.name];
}

function allows(s: ServiceRequest, c: CloudCandidate): boolean {
  return !s.clouds?.length || names(c).some((n) => s.clouds!.includes(n));
}

/** Candidate clouds for `s`, best first, and the refusals of those left out. */
function candidates(s: ServiceRequest, clouds: readonly CloudState[], refusals: CloudRefusal[]): CloudState[] {
  const out: CloudState[] = [];
  for (const cs of clouds) {
    const reason = !cs.c.online
      ? 'offline'
      : !cs.c.allowed
        ? 'not allowed for this user'
        : !allows(s, cs.c)
          ? `not in the clouds of '${s.name}'`
          : undefined;
    if (reason) refusals.push({ cloud: cs.c.name, reason });
    else out.push(cs);
  }
  const pref = (cs: CloudState) =>
    s.clouds?.length
      ? Math.min(
          ...names(cs.c)
            .map((n) => s.clouds!.indexOf(n))
            .filter((i) => i >= 0),
        )
      : 0;
  return out.sort((a, b) => pref(a) - pref(b) || a.c.rank - b.c.rank || a.c.name.localeCompare(b.c.name));
}

export function planPlacement(input: PlacementInput): PlacementPlan {
  const clouds: CloudState[] = input.clouds.map((c) => ({ c, room: room(c), hosts: new Set(c.hostsFixed ?? []) }));
  const fixed = input.fixed ?? input.services.filter((s) => s.type === 'fixed');
  const placements: Placement[] = [];
  const replicas: Placement[] = [];

  for (const s of input.services) {
    if (s.count <= 0) continue;
    const refusals: CloudRefusal[] = [];
    const cands = candidates(s, clouds, refusals);

    if (s.type === 'fixed') {
      const home = cands.find((cs) => {
        const f = fit(cs.room, need(s), s.count);
        if (f.count < s.count)
          refusals.push({ cloud: cs.c.name, reason: `room for ${f.count} of ${s.count}: ${f.short}` });
        return f.count >= s.count;
      });
      if (!home) throw new PlacementError(s.name, s.count, 0, refusals);
      home.room = take(home.room, need(s), s.count);
      home.hosts.add(s.name);
      placements.push({ service: s.name, cloud: home.c.name, count: s.count });
      continue;
    }

    let remaining = s.count;
    for (const cs of cands) {
      if (remaining === 0) break;
      const missing = fixed.filter((f) => !cs.hosts.has(f.name));
      const barred = missing.find((f) => !allows(f, cs.c));
      if (barred) {
        refusals.push({ cloud: cs.c.name, reason: `fixed service '${barred.name}' may not run there` });
        continue;
      }
      let r = cs.room;
      let noReplica: string | undefined;
      for (const f of missing) {
        const ff = fit(r, need(f), 1);
        if (ff.count < 1) {
          noReplica = `no room for a replica of '${f.name}': ${ff.short}`;
          break;
        }
        r = take(r, need(f), 1);
      }
      if (noReplica) {
        refusals.push({ cloud: cs.c.name, reason: noReplica });
        continue;
      }
      const f = fit(r, need(s), remaining);
      const after = missing.length ? `after replicas of ${missing.map((m) => `'${m.name}'`).join(', ')}, ` : '';
      if (f.count === 0) {
        refusals.push({ cloud: cs.c.name, reason: `${after}${f.short ?? 'no room'}` });
        continue;
      }
      if (f.count < remaining) refusals.push({ cloud: cs.c.name, reason: `${after}room for ${f.count}: ${f.short}` });
      for (const m of missing) {
        replicas.push({ service: m.name, cloud: cs.c.name, count: 1 });
        cs.hosts.add(m.name);
      }
      cs.room = take(r, need(s), f.count);
      placements.push({ service: s.name, cloud: cs.c.name, count: f.count });
      remaining -= f.count;
    }
    if (remaining > 0) throw new PlacementError(s.name, s.count, s.count - remaining, refusals);
  }
  return { placements, replicas };
}
