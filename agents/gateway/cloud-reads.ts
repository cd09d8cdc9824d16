/**
 * What the web pages ask of the clouds beyond the list: which of them a user may use (each
 * online cloud agent's own ACL and quota answer a one-instance Discover, so the gateway
 * keeps no copy of its rules), the addresses of a deployment's instances (the clouds'
 * own lists, which carry them), and every cloud's quota use for admins.
 * Callers are authorized by the service layer before any of these run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Access } from './access.js';
import { instanceName } from './allocator.js';
import type { Clouds } from './clouds.js';
import type { Deployment, GatewayModel } from './model/index.js';

/** What `user` may do on one cloud. `max`: instances it would host for them now. */
export interface CloudUse {
  jid: string;
  name: string;
  online: boolean;
  free: number;
  allowed: boolean;
  max: number;
  reason?: string;
}

/** One cloud's quota use: its own count and free room, and the gateway's instances per owner. */
export interface CloudQuota {
  jid: string;
  name: string;
  online: boolean;
  used: number;
  free: number;
  byOwner: Record<string, number>;
}

/** Instance states the gateway counts as holding room on a cloud. */
const HOLDING = ['requested', 'booting', 'running', 'draining', 'terminating'] as const;
const ADDRESS_WAIT_MS = 3000;

export function createCloudReads({ clouds, access, model }: { clouds: Clouds; access: Access; model: GatewayModel }) {
  return {
    async usable(me: string): Promise<CloudUse[]> {
      const groups = access.groupsOf(me);
      return Promise.all(
        clouds.list().map(async (c): Promise<CloudUse> => {
          const base = { jid: c.jid, name: c.name, online: c.online, free: c.data?.free_instances ?? 0 };
          if (!c.online || !c.data) return { ...base, allowed: false, max: 0, reason: 'offline' };
          const a = await clouds.discover(c.jid, {
            owner: me,
            groups,
            flavor: c.data.flavors[0] ?? 'small',
            image: c.data.images[0] ?? 'default',
            count: 1,
          });
          return { ...base, allowed: a.accept, max: a.max, ...(a.reason ? { reason: a.reason } : {}) };
        }),
      );
    },

    /** Instance name → addresses, from each cloud the deployment uses (an unanswered cloud adds none). */
    async addresses(dep: Deployment): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      const used = [...new Set(model.instances.list(dep.id).map((i) => i.cloud))].filter((c) => c);
      const timeout = sleep(ADDRESS_WAIT_MS, undefined, { ref: false });
      const lists = await Promise.all(used.map((c) => Promise.race([clouds.listInstances(c, dep.id), timeout])));
      for (const l of lists)
        for (const i of l ?? []) {
          const name = i.deployment === dep.id ? instanceName(dep.id, i.name) : undefined;
          if (name && i.addresses?.length) out.set(name, i.addresses);
        }
      return out;
    },

    quota(): CloudQuota[] {
      const byCloud = new Map<string, Record<string, number>>();
      for (const d of model.deployments.list())
        for (const i of model.instances.list(d.id)) {
          if (!(HOLDING as readonly string[]).includes(i.state) || !i.cloud) continue;
          const m = byCloud.get(i.cloud) ?? {};
          m[d.owner] = (m[d.owner] ?? 0) + 1;
          byCloud.set(i.cloud, m);
        }
      return clouds.list().map((c) => ({
        jid: c.jid,
        name: c.name,
        online: c.online,
        used: c.data?.instances ?? 0,
        free: c.data?.free_instances ?? 0,
        byOwner: byCloud.get(c.jid) ?? {},
      }));
    },
  };
}

export type CloudReads = ReturnType<typeof createCloudReads>;
