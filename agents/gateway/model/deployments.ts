/**
 * Deployments: one running (or finished) copy of a cluster definition for one owner.
 * Every state change is validated against DEPLOYMENT_STATES and recorded as an event in
 * the same transaction, so the history never disagrees with the state.
 */
import type { ClusterDef } from './cluster.js';
import { NotFoundError } from './errors.js';
import type { Events } from './events.js';
import { fromJson, moveState, toJson, type RepoDeps } from './repo.js';
import { DEPLOYMENT_STATES, type DeploymentState } from './states.js';
import { bareJid } from './users.js';

export interface Deployment {
  readonly id: string;
  readonly cluster: string;
  readonly owner: string;
  readonly state: DeploymentState;
  /** The definition as it was when deployed. */
  readonly definition: ClusterDef;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Set once a destroy request was accepted; the deployment keeps no instances after it. */
  readonly destroyedAt?: number;
}

interface Row {
  id: string;
  cluster: string;
  owner: string;
  definition: string;
  state: DeploymentState;
  created_at: number;
  updated_at: number;
  destroyed_at: number | null;
}

const toDeployment = (r: Row): Deployment => ({
  id: r.id,
  cluster: r.cluster,
  owner: r.owner,
  state: r.state,
  definition: fromJson<ClusterDef>(r.definition)!,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  ...(r.destroyed_at !== null ? { destroyedAt: r.destroyed_at } : {}),
});

export function createDeployments(deps: RepoDeps & { events: Events }) {
  const { db, events } = deps;
  const get = (id: string): Deployment | undefined => {
    const r = db.prepare('SELECT * FROM deployments WHERE id = ?').get(id) as Row | undefined;
    return r && toDeployment(r);
  };
  const require = (id: string): Deployment => {
    const d = get(id);
    if (!d) throw new NotFoundError('deployment', id);
    return d;
  };
  return {
    get,
    require,
    /** A new deployment in state 'pending'. */
    create(owner: string, definition: ClusterDef): Deployment {
      const who = bareJid(owner);
      const id = deps.newId('d');
      db.transaction(() => {
        if (!db.prepare('SELECT 1 FROM users WHERE jid = ?').get(who)) throw new NotFoundError('user', who);
        const now = deps.now();
        db.prepare(`INSERT INTO deployments (id, cluster, owner, definition, state, created_at, updated_at)
          VALUES (?, ?, ?, ?, 'pending', ?, ?)`).run(id, definition.name, who, toJson(definition), now, now);
        events.append(id, {
          type: 'created',
          message: `deployment of cluster '${definition.name}' created`,
          data: { owner: who },
        });
      })();
      return require(id);
    },
    /** IllegalTransitionError unless DEPLOYMENT_STATES allows it. */
    transition(id: string, to: DeploymentState, note?: { message?: string; data?: unknown }): Deployment {
      db.transaction(() => {
        const from = moveState(deps, 'deployments', DEPLOYMENT_STATES, 'deployment', id, to);
        events.append(id, {
          type: 'state',
          message: note?.message ?? `${from} -> ${to}`,
          data: { from, to, ...(note?.data !== undefined ? { detail: note.data } : {}) },
        });
      })();
      return require(id);
    },
    /** Marks the deployment as being destroyed (once; later calls keep the first time). */
    markDestroyed(id: string): Deployment {
      db.prepare('UPDATE deployments SET destroyed_at = coalesce(destroyed_at, ?), updated_at = ? WHERE id = ?').run(
        deps.now(),
        deps.now(),
        id,
      );
      return require(id);
    },
    list(filter: { owner?: string; states?: readonly DeploymentState[] } = {}): Deployment[] {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.owner !== undefined) {
        where.push('owner = ?');
        args.push(bareJid(filter.owner));
      }
      if (filter.states?.length) {
        where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
        args.push(...filter.states);
      }
      const sql = `SELECT * FROM deployments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, rowid`;
      return (db.prepare(sql).all(...args) as Row[]).map(toDeployment);
    },
  };
}

export type Deployments = ReturnType<typeof createDeployments>;
