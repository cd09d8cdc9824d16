/**
 * What the cloud agent owns, in its SQLite database: each allocation request (kept until
 * its result is sent) and each instance, recorded in state 'requested' before the driver
 * is asked to create it. A restarted agent resumes from here: it creates what is still
 * 'requested' (drivers are idempotent by name), so nothing is lost or created twice.
 *
 * States: 'requested' (recorded, not yet created), the driver's normalized states
 * (pending, running, stopping, terminated, error, unknown), and 'failed' (the cloud
 * refused to create it; it never existed). Instances in terminated or failed hold no quota.
 * No credential and no login token is ever written here; the user's context is kept only
 * until every instance of its request has been created.
 */
import type { Db, Migration } from '../../core/index.js';

export const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE cloud_requests (
     key TEXT PRIMARY KEY,
     request_id TEXT NOT NULL, requester TEXT NOT NULL,
     deployment TEXT NOT NULL, service TEXT NOT NULL, owner TEXT NOT NULL, groups TEXT NOT NULL,
     flavor TEXT NOT NULL, image TEXT NOT NULL, names TEXT NOT NULL,
     context TEXT NOT NULL, context_version INTEGER NOT NULL, context_id TEXT, allow TEXT NOT NULL,
     refused TEXT NOT NULL DEFAULT '[]', condition TEXT, reason TEXT,
     result_sent INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
   CREATE TABLE cloud_instances (
     name TEXT PRIMARY KEY, request TEXT NOT NULL REFERENCES cloud_requests(key),
     deployment TEXT NOT NULL, service TEXT NOT NULL, owner TEXT NOT NULL, groups TEXT NOT NULL,
     requester TEXT NOT NULL, flavor TEXT NOT NULL, image TEXT NOT NULL,
     cores INTEGER NOT NULL, memory_mb INTEGER NOT NULL,
     cloud_id TEXT, state TEXT NOT NULL, provider_state TEXT, reason TEXT, addresses TEXT NOT NULL DEFAULT '[]',
     terminate_requested INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE INDEX cloud_instances_state ON cloud_instances (state);
   CREATE INDEX cloud_instances_deployment ON cloud_instances (deployment);`,
];

export type StoredState =
  | 'requested'
  | 'pending'
  | 'running'
  | 'stopping'
  | 'terminated'
  | 'error'
  | 'unknown'
  | 'failed';
export const GONE: readonly StoredState[] = ['terminated', 'failed'];

export interface RequestRow {
  key: string;
  request_id: string;
  requester: string;
  deployment: string;
  service: string;
  owner: string;
  groups: string[];
  flavor: string;
  image: string;
  names: string[];
  context: string;
  context_version: number;
  context_id: string | null;
  allow: string[];
  refused: string[];
  condition: string | null;
  reason: string | null;
  result_sent: number;
  created_at: number;
}

export interface InstanceRow {
  name: string;
  request: string;
  deployment: string;
  service: string;
  owner: string;
  groups: string[];
  requester: string;
  flavor: string;
  image: string;
  cores: number;
  memory_mb: number;
  cloud_id: string | null;
  state: StoredState;
  provider_state: string | null;
  reason: string | null;
  addresses: string[];
  terminate_requested: number;
  created_at: number;
  updated_at: number;
}

export type NewRequest = Omit<RequestRow, 'key' | 'result_sent' | 'created_at'>;
export type NewInstance = Pick<InstanceRow, 'name' | 'flavor' | 'image' | 'cores' | 'memory_mb'>;

const json = (v: unknown) => JSON.stringify(v);
const reqOf = (r: any): RequestRow => ({
  ...r,
  groups: JSON.parse(r.groups),
  names: JSON.parse(r.names),
  allow: JSON.parse(r.allow),
  refused: JSON.parse(r.refused),
});
const instOf = (r: any): InstanceRow => ({ ...r, groups: JSON.parse(r.groups), addresses: JSON.parse(r.addresses) });

export type CloudStore = ReturnType<typeof cloudStore>;

export function requestKey(requester: string, requestId: string): string {
  return `${requester} ${requestId}`;
}

export function cloudStore(db: Db) {
  const now = Date.now;
  return {
    db,
    request(key: string): RequestRow | undefined {
      const r = db.prepare('SELECT * FROM cloud_requests WHERE key = ?').get(key);
      return r ? reqOf(r) : undefined;
    },
    /** Records a request and its accepted instances in one transaction. */
    addRequest(req: NewRequest, instances: readonly NewInstance[]): RequestRow {
      const key = requestKey(req.requester, req.request_id);
      const t = now();
      db.transaction(() => {
        db.prepare(`INSERT INTO cloud_requests (key, request_id, requester, deployment, service, owner, groups, flavor, image, names,
            context, context_version, context_id, allow, refused, condition, reason, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
          key,
          req.request_id,
          req.requester,
          req.deployment,
          req.service,
          req.owner,
          json(req.groups),
          req.flavor,
          req.image,
          json(req.names),
          req.context,
          req.context_version,
          req.context_id,
          json(req.allow),
          json(req.refused),
          req.condition,
          req.reason,
          t,
        );
        const ins =
          db.prepare(`INSERT INTO cloud_instances (name, request, deployment, service, owner, groups, requester, flavor, image,
            cores, memory_mb, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?)`);
        for (const i of instances) {
          ins.run(
            i.name,
            key,
            req.deployment,
            req.service,
            req.owner,
            json(req.groups),
            req.requester,
            i.flavor,
            i.image,
            i.cores,
            i.memory_mb,
            t,
            t,
          );
        }
      })();
      return this.request(key)!;
    },
    /** A name the cloud refused after admission joins the request's refused list. */
    refuse(key: string, name: string, condition: string, reason: string): void {
      const r = this.request(key);
      if (!r) return;
      const refused = [...new Set([...r.refused, name])];
      db.prepare(
        'UPDATE cloud_requests SET refused = ?, condition = coalesce(condition, ?), reason = coalesce(reason, ?) WHERE key = ?',
      ).run(json(refused), condition, reason, key);
    },
    /** Result sent: the context is no longer needed and is not kept. */
    markResultSent(key: string): void {
      db.prepare(`UPDATE cloud_requests SET result_sent = 1, context = '' WHERE key = ?`).run(key);
    },
    unsentResults(): RequestRow[] {
      return db
        .prepare(`SELECT * FROM cloud_requests r WHERE result_sent = 0
        AND NOT EXISTS (SELECT 1 FROM cloud_instances i WHERE i.request = r.key AND i.state = 'requested')`)
        .all()
        .map(reqOf);
    },
    instance(name: string): InstanceRow | undefined {
      const r = db.prepare('SELECT * FROM cloud_instances WHERE name = ?').get(name);
      return r ? instOf(r) : undefined;
    },
    instancesOf(key: string): InstanceRow[] {
      return db.prepare('SELECT * FROM cloud_instances WHERE request = ? ORDER BY rowid').all(key).map(instOf);
    },
    requested(): InstanceRow[] {
      return db
        .prepare(`SELECT * FROM cloud_instances WHERE state = 'requested' ORDER BY created_at, rowid`)
        .all()
        .map(instOf);
    },
    /** Instances that exist or may exist in the cloud (they hold quota). */
    live(): InstanceRow[] {
      return db
        .prepare(`SELECT * FROM cloud_instances WHERE state NOT IN ('terminated', 'failed') ORDER BY created_at, rowid`)
        .all()
        .map(instOf);
    },
    list(filter: { deployment?: string; owner?: string; requester?: string } = {}): InstanceRow[] {
      return db
        .prepare(`SELECT * FROM cloud_instances WHERE (@d IS NULL OR deployment = @d) AND (@o IS NULL OR owner = @o)
        AND (@r IS NULL OR requester = @r) ORDER BY created_at, rowid`)
        .all({ d: filter.deployment ?? null, o: filter.owner ?? null, r: filter.requester ?? null })
        .map(instOf);
    },
    /** Changes what is given; returns the row before and after, or undefined if unknown. */
    update(
      name: string,
      patch: Partial<
        Pick<InstanceRow, 'cloud_id' | 'state' | 'provider_state' | 'reason' | 'addresses' | 'terminate_requested'>
      >,
    ): { before: InstanceRow; after: InstanceRow } | undefined {
      const before = this.instance(name);
      if (!before) return undefined;
      const after: InstanceRow = { ...before, ...patch, updated_at: now() };
      db.prepare(`UPDATE cloud_instances SET cloud_id = ?, state = ?, provider_state = ?, reason = ?, addresses = ?,
          terminate_requested = ?, updated_at = ? WHERE name = ?`).run(
        after.cloud_id,
        after.state,
        after.provider_state,
        after.reason,
        json(after.addresses),
        after.terminate_requested,
        after.updated_at,
        name,
      );
      return { before, after };
    },
  };
}
