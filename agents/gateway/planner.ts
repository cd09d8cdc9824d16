/**
 * Gathers what placement needs and asks model/placement.ts for a plan: the configured
 * clouds in preference order, whether each is online (presence), admits the owner and has
 * room (its Discover answer, which applies its ACL, quota and capacity with its own flavor
 * sizes), its free instance slots (presence), and which fixed services of the deployment
 * already run there.
 */
import type { Logger } from '../../core/index.js';
import type { Access } from './access.js';
import { flavorName } from './allocator.js';
import type { Clouds } from './clouds.js';
import { isActive } from './desired.js';
import {
  flavorSize,
  planPlacement,
  PlacementError,
  type CloudCandidate,
  type CloudRefusal,
  type Deployment,
  type Instance,
  type PlacementPlan,
  type ServiceDef,
  type ServiceRequest,
} from './model/index.js';

export function createPlanner({ clouds, access, log }: { clouds: Clouds; access: Access; log: Logger }) {
  /** Preferences name clouds by presence name or JID; placement compares JIDs. */
  const prefs = (s: ServiceDef): string[] => s.clouds.map((c) => clouds.resolve(c) ?? c);

  const request = (s: ServiceDef, count: number, only?: string): ServiceRequest => ({
    name: s.name,
    type: s.type,
    count,
    ...flavorSize(s.flavor),
    clouds: only ? [only] : prefs(s),
  });

  return {
    /**
     * Where `count` more instances of `svc` go (cloud JIDs), with the fixed-service replicas
     * clouds entered for the first time need. Clouds in `exclude` failed this service
     * during the current job and are skipped. PlacementError when not all fit.
     */
    async plan(
      dep: Deployment,
      svc: ServiceDef,
      count: number,
      instances: readonly Instance[],
      exclude: ReadonlyMap<string, string>,
    ): Promise<PlacementPlan> {
      const active = instances.filter(isActive);
      // A fixed service lives whole in one cloud: more of it go where it is already.
      const home = svc.type === 'fixed' ? active.find((i) => i.service === svc.name && !i.replica)?.cloud : undefined;
      const fixed = dep.definition.services.filter((s) => s.type === 'fixed');
      const groups = access.groupsOf(dep.owner);
      const excluded: CloudRefusal[] = [];
      const refusedBy = new Map<string, string>();
      const candidates: CloudCandidate[] = [];
      await Promise.all(
        clouds.list().map(async (c) => {
          const why = exclude.get(c.jid);
          if (why) {
            excluded.push({ cloud: c.jid, reason: why });
            return;
          }
          const hosts = [
            ...new Set(
              active.filter((i) => i.cloud === c.jid && fixed.some((f) => f.name === i.service)).map((i) => i.service),
            ),
          ];
          // Entering a cloud for the first time costs the fixed-service replicas too.
          const replicas = svc.type === 'scalable' ? fixed.filter((f) => !hosts.includes(f.name)).length : 0;
          const answer = c.online
            ? await clouds.discover(c.jid, {
                owner: dep.owner,
                groups,
                flavor: flavorName(svc.flavor),
                image: svc.image,
                count: count + replicas,
              })
            : { accept: false, max: 0 };
          // Not accepting all of them is not a refusal: `max` says how many fit.
          const allowed = answer.accept || answer.max > 0;
          if (c.online && !allowed) refusedBy.set(c.jid, `refused: ${answer.reason ?? 'no reason given'}`);
          const d = c.data;
          candidates.push({
            name: c.jid,
            jid: c.jid,
            online: c.online,
            allowed,
            rank: c.rank,
            quota: { instances: answer.max },
            // Cores and memory are left to the cloud's Discover answer: it sizes flavors its
            // own way, which the gateway's generic estimate may not match.
            ...(d ? { capacity: { instances: d.free_instances } } : {}),
            hostsFixed: hosts,
          });
        }),
      );
      candidates.sort((a, b) => a.rank - b.rank);
      try {
        return planPlacement({
          services: [request(svc, count, home)],
          clouds: candidates,
          fixed: fixed.map((f) => request(f, 1)),
        });
      } catch (err) {
        if (!(err instanceof PlacementError)) throw err;
        log.info({ deployment: dep.id, service: svc.name, reason: err.message }, 'placement failed');
        const named = (r: CloudRefusal): CloudRefusal => ({
          cloud: clouds.get(r.cloud).name,
          reason: refusedBy.get(r.cloud) ?? r.reason,
        });
        throw new PlacementError(err.service, err.requested, err.placeable, [...err.refusals, ...excluded].map(named));
      }
    },
  };
}

export type Planner = ReturnType<typeof createPlanner>;
