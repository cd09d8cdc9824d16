/**
 * Jobs: units of work on a deployment (deploy, scale, destroy, replace an instance),
 * persisted so a restarted gateway resumes what was queued or running. The request is
 * kept as JSON exactly as accepted; result or error are added when the job ends.
 */
import { NotFoundError } from './errors.js';
import type { Events } from './events.js';
import { fromJson, isConstraint, moveState, toJson, type RepoDeps } from './repo.js';
import { JOB_STATES, type JobState } from './states.js';

export type JobKind = 'deploy' | 'scale' | 'destroy' | 'replace';

export interface Job {
  readonly id: string;
  readonly deploymentId: string;
  readonly kind: JobKind;
  readonly state: JobState;
  readonly request: unknown;
  readonly result?: unknown;
  readonly error?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Row {
  id: string;
  deployment_id: string;
  kind: JobKind;
  state: JobState;
  request: string;
  result: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

const toJob = (r: Row): Job => ({
  id: r.id,
  deploymentId: r.deployment_id,
  kind: r.kind,
  state: r.state,
  request: fromJson(r.request),
  ...(r.result !== null ? { result: fromJson(r.result) } : {}),
  ...(r.error !== null ? { error: r.error } : {}),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function createJobs(deps: RepoDeps & { events: Events }) {
  const { db, events } = deps;
  const get = (id: string): Job | undefined => {
    const r = db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return r && toJob(r);
  };
  const require = (id: string): Job => {
    const j = get(id);
    if (!j) throw new NotFoundError('job', id);
    return j;
  };
  return {
    get,
    require,
    /** A new job in state 'queued'. */
    create(deploymentId: string, kind: JobKind, request: unknown): Job {
      const id = deps.newId('j');
      db.transaction(() => {
        const now = deps.now();
        try {
          db.prepare(`INSERT INTO jobs (id, deployment_id, kind, state, request, created_at, updated_at)
            VALUES (?, ?, ?, 'queued', ?, ?, ?)`).run(id, deploymentId, kind, toJson(request ?? null), now, now);
        } catch (err) {
          if (isConstraint(err, 'FOREIGNKEY')) throw new NotFoundError('deployment', deploymentId);
          throw err;
        }
        events.append(deploymentId, {
          type: 'job',
          message: `${kind} job queued`,
          data: { job: id, kind, state: 'queued' },
        });
      })();
      return require(id);
    },
    /** IllegalTransitionError unless JOB_STATES allows it; `result`/`error` are stored with the end state. */
    transition(id: string, to: JobState, end: { result?: unknown; error?: string } = {}): Job {
      db.transaction(() => {
        const extra: Record<string, unknown> = {};
        if (end.result !== undefined) extra.result = toJson(end.result);
        if (end.error !== undefined) extra.error = end.error;
        const from = moveState(deps, 'jobs', JOB_STATES, 'job', id, to, extra);
        const j = require(id);
        events.append(j.deploymentId, {
          type: 'job',
          message: `${j.kind} job ${to}${end.error ? `: ${end.error}` : ''}`,
          data: { job: id, kind: j.kind, from, to },
        });
      })();
      return require(id);
    },
    list(deploymentId: string): Job[] {
      return (
        db.prepare('SELECT * FROM jobs WHERE deployment_id = ? ORDER BY created_at, rowid').all(deploymentId) as Row[]
      ).map(toJob);
    },
    /** Queued and running jobs of all deployments, oldest first: what to resume after a restart. */
    unfinished(): Job[] {
      return (
        db.prepare("SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at, rowid").all() as Row[]
      ).map(toJob);
    },
  };
}

export type Jobs = ReturnType<typeof createJobs>;
