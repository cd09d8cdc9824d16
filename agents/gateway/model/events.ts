/**
 * Per-deployment history, append-only (the database refuses UPDATE on it): what happened,
 * when, in order. `seq` increases across all deployments, so a client that saw seq N can
 * ask for everything after it.
 */
import { fromJson, toJson, type RepoDeps } from './repo.js';

export interface DeploymentEvent {
  readonly seq: number;
  readonly deploymentId: string;
  readonly time: number;
  /** e.g. 'created', 'state', 'instance', 'job', 'placement', 'scale'. */
  readonly type: string;
  readonly message: string;
  readonly data?: unknown;
}

interface Row {
  seq: number;
  deployment_id: string;
  time: number;
  type: string;
  message: string;
  data: string | null;
}

const toEvent = (r: Row): DeploymentEvent => ({
  seq: r.seq,
  deploymentId: r.deployment_id,
  time: r.time,
  type: r.type,
  message: r.message,
  ...(r.data !== null ? { data: fromJson(r.data) } : {}),
});

export function createEvents(deps: RepoDeps & { onAppend?: (e: DeploymentEvent) => void }) {
  const { db } = deps;
  return {
    append(deploymentId: string, e: { type: string; message: string; data?: unknown }): DeploymentEvent {
      const time = deps.now();
      const r = db
        .prepare('INSERT INTO events (deployment_id, time, type, message, data) VALUES (?, ?, ?, ?, ?)')
        .run(deploymentId, time, e.type, e.message, e.data === undefined ? null : toJson(e.data));
      const ev = {
        seq: Number(r.lastInsertRowid),
        deploymentId,
        time,
        type: e.type,
        message: e.message,
        ...(e.data !== undefined ? { data: e.data } : {}),
      };
      deps.onAppend?.(ev);
      return ev;
    },
    /** Events of a deployment in order, optionally only those after `afterSeq`. */
    /** Events of all deployments after `afterSeq`, in order (the publisher's feed). */
    after(afterSeq: number, limit = 500): DeploymentEvent[] {
      return (db.prepare('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as Row[]).map(
        toEvent,
      );
    },
    list(deploymentId: string, opts: { afterSeq?: number; limit?: number } = {}): DeploymentEvent[] {
      const rows = db
        .prepare('SELECT * FROM events WHERE deployment_id = ? AND seq > ? ORDER BY seq LIMIT ?')
        .all(deploymentId, opts.afterSeq ?? 0, opts.limit ?? -1) as Row[];
      return rows.map(toEvent);
    },
  };
}

export type Events = ReturnType<typeof createEvents>;
