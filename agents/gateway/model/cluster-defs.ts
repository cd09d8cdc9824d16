/**
 * Stored cluster definitions: the INI text as the user wrote it (to show and edit) and
 * its parsed form (to deploy). Unlike contexts these are editable; a deployment keeps its
 * own copy of the definition it was started from.
 */
import { parseCluster, type ClusterDef } from './cluster.js';
import { NotFoundError } from './errors.js';
import { fromJson, toJson, type RepoDeps } from './repo.js';
import { bareJid } from './users.js';

export interface ClusterRecord {
  readonly name: string;
  readonly owner: string;
  readonly ini: string;
  readonly definition: ClusterDef;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Row {
  name: string;
  owner: string;
  ini: string;
  parsed: string;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: Row): ClusterRecord => ({
  name: r.name,
  owner: r.owner,
  ini: r.ini,
  definition: fromJson<ClusterDef>(r.parsed)!,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function createClusterDefs(deps: RepoDeps & { check?: (def: ClusterDef, file: string) => ClusterDef }) {
  const { db } = deps;
  const get = (owner: string, name: string): ClusterRecord | undefined => {
    const r = db.prepare('SELECT * FROM clusters WHERE owner = ? AND name = ?').get(bareJid(owner), name) as
      | Row
      | undefined;
    return r && toRecord(r);
  };
  return {
    get,
    /**
     * Parses `ini` (ConfigInvalidError listing every problem, named after `file`) and
     * stores it under the name in its [cluster] section, replacing an earlier one.
     */
    put(owner: string, ini: string, file = 'cluster.ini'): ClusterRecord {
      const who = bareJid(owner);
      const parsed = parseCluster(ini, file);
      const def = deps.check ? deps.check(parsed, file) : parsed;
      if (!db.prepare('SELECT 1 FROM users WHERE jid = ?').get(who)) throw new NotFoundError('user', who);
      const now = deps.now();
      db.prepare(`INSERT INTO clusters (name, owner, ini, parsed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (owner, name) DO UPDATE SET ini = excluded.ini, parsed = excluded.parsed, updated_at = excluded.updated_at`).run(
        def.name,
        who,
        ini,
        toJson(def),
        now,
        now,
      );
      return get(who, def.name)!;
    },
    list(owner?: string): ClusterRecord[] {
      const rows =
        owner === undefined
          ? db.prepare('SELECT * FROM clusters ORDER BY owner, name').all()
          : db.prepare('SELECT * FROM clusters WHERE owner = ? ORDER BY name').all(bareJid(owner));
      return (rows as Row[]).map(toRecord);
    },
    remove(owner: string, name: string): boolean {
      return db.prepare('DELETE FROM clusters WHERE owner = ? AND name = ?').run(bareJid(owner), name).changes === 1;
    },
  };
}

export type ClusterDefs = ReturnType<typeof createClusterDefs>;
