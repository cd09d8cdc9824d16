/**
 * Who may use this cloud (ACL) and how much (soft quota), decided from the database
 * alone, before the cloud is called.
 *
 * ACL: a request is on behalf of an owner (bare JID) with groups; it is allowed when the
 * owner is listed in [acl] users, or one of its groups in [acl] groups, or users = *.
 * An empty ACL allows nobody: a cloud credential is not shared by accident.
 *
 * Quota: every instance not terminated or failed counts (requested ones included, so two
 * quick requests cannot both pass). The limits that apply are the [quota] totals, the
 * owner's [quota.user.<jid>] (or [quota.user.default]), and [quota.group.<g>] for each of
 * the request's groups, where usage is every instance recorded with that group.
 */
import type { CloudConfig, Limits } from './config.js';
import type { CloudStore, InstanceRow } from './store.js';

export interface Size {
  cores: number;
  memoryMb: number;
}
export interface Usage {
  instances: number;
  cores: number;
  memoryMb: number;
}

export interface Fit {
  /** How many of the asked instances fit. */
  fits: number;
  /** The first limit that stopped more, for the refusal message. */
  limit?: string;
}

export type Policy = ReturnType<typeof policy>;

export function policy({ config, store }: { config: CloudConfig; store: CloudStore }) {
  const { acl, quota } = config;

  function usageOf(rows: readonly InstanceRow[]): Usage {
    return rows.reduce(
      (u, r) => ({ instances: u.instances + 1, cores: u.cores + r.cores, memoryMb: u.memoryMb + r.memory_mb }),
      { instances: 0, cores: 0, memoryMb: 0 },
    );
  }

  function scopes(owner: string, groups: readonly string[]): Array<{ label: string; limits: Limits; usage: Usage }> {
    const live = store.live();
    const out = [{ label: `cloud ${config.name}`, limits: quota.total, usage: usageOf(live) }];
    const user = quota.users.get(owner) ?? quota.users.get('default');
    if (user) out.push({ label: `user ${owner}`, limits: user, usage: usageOf(live.filter((r) => r.owner === owner)) });
    for (const g of new Set(groups)) {
      const l = quota.groups.get(g);
      if (l) out.push({ label: `group ${g}`, limits: l, usage: usageOf(live.filter((r) => r.groups.includes(g))) });
    }
    return out;
  }

  return {
    allowed(owner: string, groups: readonly string[] = []): boolean {
      return acl.users.has('*') || acl.users.has(owner) || groups.some((g) => acl.groups.has(g));
    },

    /** How many instances of `size` fit within every limit that applies to this owner. */
    fit(owner: string, groups: readonly string[], size: Size, count: number): Fit {
      let fits = count;
      let limit: string | undefined;
      for (const s of scopes(owner, groups)) {
        const checks: Array<[number | undefined, number, number, string]> = [
          [s.limits.instances, s.usage.instances, 1, 'instances'],
          [s.limits.cores, s.usage.cores, size.cores, 'cores'],
          [s.limits.memoryMb, s.usage.memoryMb, size.memoryMb, 'MB of memory'],
        ];
        for (const [max, used, each, unit] of checks) {
          if (max === undefined || each === 0) continue;
          const n = Math.max(0, Math.floor((max - used) / each));
          if (n < fits) {
            fits = n;
            limit = `${s.label} may use ${max} ${unit}, uses ${used}, and ${count * each} more were asked for`;
          }
        }
      }
      return { fits, limit };
    },

    /** Quota headroom of the whole cloud (for presence): undefined = unlimited. */
    free(): { instances?: number; cores?: number; memoryMb?: number } {
      const u = usageOf(store.live());
      const left = (max: number | undefined, used: number) => (max === undefined ? undefined : Math.max(0, max - used));
      return {
        instances: left(quota.total.instances, u.instances),
        cores: left(quota.total.cores, u.cores),
        memoryMb: left(quota.total.memoryMb, u.memoryMb),
      };
    },

    usage(): Usage {
      return usageOf(store.live());
    },
  };
}
