/**
 * Who may use the gateway, and as whom. A user is a bare JID; admins come from the
 * configuration and see everything; groups come from [group.<name>] sections and travel
 * with allocation requests so each cloud agent can apply its own ACL too.
 *
 * Patterns of [users] allow/deny: '*', '@domain', 'group:<name>', or a bare JID. Without a
 * [users] allow list the gateway serves the JIDs of its own XMPP domain. Deny wins over
 * allow; admins are always allowed.
 */
import { ForbiddenError, type GatewayModel, type User } from './model/index.js';
import { bareJid } from '../../core/index.js';

export interface AccessPolicy {
  readonly admins: readonly string[];
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  readonly groups?: Readonly<Record<string, { readonly members: readonly string[]; readonly description?: string }>>;
}

export function createAccess({ model, policy, domain }: { model: GatewayModel; policy: AccessPolicy; domain: string }) {
  const admins = new Set(policy.admins.map((j) => j.toLowerCase()));
  const allow = policy.allow ?? [`@${domain.toLowerCase()}`];
  const deny = policy.deny ?? [];
  const groups = policy.groups ?? {};
  const synced = new Set<string>();

  const groupsOf = (bare: string): string[] =>
    Object.entries(groups)
      .filter(([, g]) => g.members.includes(bare))
      .map(([name]) => name)
      .sort();

  const matches = (bare: string, p: string): boolean => {
    if (p === '*') return true;
    if (p.startsWith('@')) return bare.slice(bare.indexOf('@')) === p || bare === p.slice(1);
    if (p.startsWith('group:')) return groups[p.slice(6)]?.members.includes(bare) ?? false;
    return bare === p;
  };

  const isAdmin = (jid: string): boolean => admins.has(bareJid(jid));

  const mayUse = (jid: string): boolean => {
    const bare = bareJid(jid);
    if (admins.has(bare)) return true;
    return !deny.some((p) => matches(bare, p)) && allow.some((p) => matches(bare, p));
  };

  /** The user's row, created on first use and kept in step with the configuration. */
  const ensureUser = (jid: string): User => {
    const bare = bareJid(jid);
    if (synced.has(bare)) return model.users.require(bare);
    return model.transaction(() => {
      let u = model.users.get(bare) ?? model.users.add(bare);
      if (u.admin !== admins.has(bare)) u = model.users.setAdmin(bare, admins.has(bare));
      const want = new Set(groupsOf(bare));
      for (const g of u.groups) if (!want.has(g)) model.users.removeFromGroup(bare, g);
      for (const g of want) if (!u.groups.includes(g)) model.users.addToGroup(bare, g);
      synced.add(bare);
      return model.users.require(bare);
    });
  };

  return {
    isAdmin,
    mayUse,
    groupsOf,
    ensureUser,
    /** The caller as a user, or a ForbiddenError (CG_FORBIDDEN; on the wire: not-in-acl). */
    requireUser(jid: string): User {
      if (!mayUse(jid)) throw new ForbiddenError(`${bareJid(jid)} may not use this gateway`);
      return ensureUser(jid);
    },
    /** Whether `jid` may see or change something owned by `owner`. */
    canManage(jid: string, owner: string): boolean {
      const bare = bareJid(jid);
      return bare === owner || admins.has(bare);
    },
    admins: (): string[] => [...admins],
    /** Creates the configured groups in the database (memberships follow per user). */
    syncGroups(): void {
      model.transaction(() => {
        for (const [name, g] of Object.entries(groups))
          if (!model.groups.get(name)) model.groups.add(name, g.description ?? '');
      });
    },
  };
}

export type Access = ReturnType<typeof createAccess>;
