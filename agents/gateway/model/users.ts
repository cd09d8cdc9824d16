/**
 * Users (by bare JID: authorization never depends on the resource a client logs in
 * with) and the groups they belong to.
 */
import { conf } from '../../../core/index.js';

const { normalizeJid } = conf;
import { ConflictError, InvalidError, NotFoundError } from './errors.js';
import { isConstraint, type RepoDeps } from './repo.js';

export interface User {
  readonly jid: string;
  readonly admin: boolean;
  readonly groups: readonly string[];
  readonly createdAt: number;
}

export interface Group {
  readonly name: string;
  readonly description: string;
  readonly createdAt: number;
}

/** Validates and returns the bare, lower-cased form used as the key everywhere. */
export function bareJid(jid: string): string {
  return normalizeJid(jid.includes('/') ? jid.slice(0, jid.indexOf('/')) : jid, { bare: true });
}

interface UserRow {
  jid: string;
  admin: number;
  created_at: number;
}

export function createUsers(deps: RepoDeps) {
  const { db } = deps;
  const groupsOf = (jid: string) =>
    db.prepare('SELECT grp FROM user_groups WHERE jid = ? ORDER BY grp').pluck().all(jid) as string[];
  const toUser = (r: UserRow): User => ({
    jid: r.jid,
    admin: r.admin === 1,
    groups: groupsOf(r.jid),
    createdAt: r.created_at,
  });
  const get = (jid: string): User | undefined => {
    const r = db.prepare('SELECT * FROM users WHERE jid = ?').get(bareJid(jid)) as UserRow | undefined;
    return r && toUser(r);
  };
  const require = (jid: string): User => {
    const u = get(jid);
    if (!u) throw new NotFoundError('user', jid);
    return u;
  };
  const addToGroup = (jid: string, group: string): void => {
    const u = require(jid);
    if (!db.prepare('SELECT 1 FROM groups WHERE name = ?').get(group)) throw new NotFoundError('group', group);
    db.prepare('INSERT OR IGNORE INTO user_groups (jid, grp) VALUES (?, ?)').run(u.jid, group);
  };

  return {
    get,
    require,
    /** Adds a user (the groups must exist); ConflictError if already known. */
    add(jid: string, opts: { admin?: boolean; groups?: readonly string[] } = {}): User {
      const key = bareJid(jid);
      db.transaction(() => {
        try {
          db.prepare('INSERT INTO users (jid, admin, created_at) VALUES (?, ?, ?)').run(
            key,
            opts.admin ? 1 : 0,
            deps.now(),
          );
        } catch (err) {
          if (isConstraint(err, 'PRIMARYKEY') || isConstraint(err, 'UNIQUE'))
            throw new ConflictError(`user '${key}' already exists`, { cause: err });
          throw err;
        }
        for (const g of opts.groups ?? []) addToGroup(key, g);
      })();
      return require(key);
    },
    list(): User[] {
      return (db.prepare('SELECT * FROM users ORDER BY jid').all() as UserRow[]).map(toUser);
    },
    /** ConflictError while the user still owns contexts, clusters or deployments. */
    remove(jid: string): boolean {
      try {
        return db.prepare('DELETE FROM users WHERE jid = ?').run(bareJid(jid)).changes === 1;
      } catch (err) {
        if (isConstraint(err, 'FOREIGNKEY'))
          throw new ConflictError(`user '${jid}' still owns contexts, clusters or deployments`, { cause: err });
        throw err;
      }
    },
    setAdmin(jid: string, admin: boolean): User {
      const u = require(jid);
      db.prepare('UPDATE users SET admin = ? WHERE jid = ?').run(admin ? 1 : 0, u.jid);
      return require(u.jid);
    },
    addToGroup,
    removeFromGroup(jid: string, group: string): boolean {
      return db.prepare('DELETE FROM user_groups WHERE jid = ? AND grp = ?').run(bareJid(jid), group).changes === 1;
    },
    inGroup(jid: string, group: string): boolean {
      return db.prepare('SELECT 1 FROM user_groups WHERE jid = ? AND grp = ?').get(bareJid(jid), group) !== undefined;
    },
  };
}

export function createGroups(deps: RepoDeps) {
  const { db } = deps;
  const toGroup = (r: { name: string; description: string; created_at: number }): Group => ({
    name: r.name,
    description: r.description,
    createdAt: r.created_at,
  });
  return {
    add(name: string, description = ''): Group {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new InvalidError(`bad group name '${name}'`);
      const createdAt = deps.now();
      try {
        db.prepare('INSERT INTO groups (name, description, created_at) VALUES (?, ?, ?)').run(
          name,
          description,
          createdAt,
        );
      } catch (err) {
        if (isConstraint(err, 'PRIMARYKEY') || isConstraint(err, 'UNIQUE'))
          throw new ConflictError(`group '${name}' already exists`, { cause: err });
        throw err;
      }
      return { name, description, createdAt };
    },
    get(name: string): Group | undefined {
      const r = db.prepare('SELECT * FROM groups WHERE name = ?').get(name) as
        | Parameters<typeof toGroup>[0]
        | undefined;
      return r && toGroup(r);
    },
    list(): Group[] {
      return (db.prepare('SELECT * FROM groups ORDER BY name').all() as Parameters<typeof toGroup>[0][]).map(toGroup);
    },
    /** Removing a group removes its memberships. */
    remove(name: string): boolean {
      return db.prepare('DELETE FROM groups WHERE name = ?').run(name).changes === 1;
    },
    members(name: string): string[] {
      return db.prepare('SELECT jid FROM user_groups WHERE grp = ? ORDER BY jid').pluck().all(name) as string[];
    },
  };
}

export type Users = ReturnType<typeof createUsers>;
export type Groups = ReturnType<typeof createGroups>;
