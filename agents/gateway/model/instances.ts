/**
 * Instances of a deployment: where each runs (cloud agent JID and the cloud's own id),
 * its lifecycle state (INSTANCE_STATES), the context version it applied, and liveness
 * (ready flag, last heartbeat). State changes are recorded as deployment events.
 */
import { NotFoundError } from './errors.js';
import type { Events } from './events.js';
import { isConstraint, moveState, type RepoDeps } from './repo.js';
import { INSTANCE_STATES, type InstanceState } from './states.js';

export interface ContextRef {
  readonly id: string;
  readonly version: number;
}

export interface Instance {
  readonly id: string;
  readonly deploymentId: string;
  readonly service: string;
  /** Unique within the deployment: '<service>-<n>'. */
  readonly name: string;
  /** JID of the cloud agent that owns it. */
  readonly cloud: string;
  readonly cloudInstanceId?: string;
  /** A fixed-service replica added because the cluster overflowed into this cloud. */
  readonly replica: boolean;
  readonly state: InstanceState;
  readonly context?: ContextRef;
  readonly ready: boolean;
  readonly lastHeartbeat?: number;
  /** The allocation request that asked a cloud for it (re-sent as is after a restart). */
  readonly requestId?: string;
  /** The instance agent's JID, as its cloud agent reported it. */
  readonly jid?: string;
  /** Why it failed or ended, for people. */
  readonly reason?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Row {
  id: string;
  deployment_id: string;
  service: string;
  name: string;
  cloud: string;
  cloud_instance_id: string | null;
  replica: number;
  state: InstanceState;
  context_id: string | null;
  context_version: number | null;
  ready: number;
  last_heartbeat: number | null;
  created_at: number;
  updated_at: number;
  request_id: string | null;
  jid: string | null;
  reason: string | null;
}

const toInstance = (r: Row): Instance => ({
  id: r.id,
  deploymentId: r.deployment_id,
  service: r.service,
  name: r.name,
  cloud: r.cloud,
  ...(r.cloud_instance_id !== null ? { cloudInstanceId: r.cloud_instance_id } : {}),
  replica: r.replica === 1,
  state: r.state,
  ...(r.context_id !== null ? { context: { id: r.context_id, version: r.context_version! } } : {}),
  ready: r.ready === 1,
  ...(r.last_heartbeat !== null ? { lastHeartbeat: r.last_heartbeat } : {}),
  ...(r.request_id !== null ? { requestId: r.request_id } : {}),
  ...(r.jid !== null ? { jid: r.jid } : {}),
  ...(r.reason !== null ? { reason: r.reason } : {}),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function createInstances(deps: RepoDeps & { events: Events }) {
  const { db, events } = deps;
  const get = (id: string): Instance | undefined => {
    const r = db.prepare('SELECT * FROM instances WHERE id = ?').get(id) as Row | undefined;
    return r && toInstance(r);
  };
  const require = (id: string): Instance => {
    const i = get(id);
    if (!i) throw new NotFoundError('instance', id);
    return i;
  };
  const nextName = (deploymentId: string, service: string): string => {
    const names = db
      .prepare('SELECT name FROM instances WHERE deployment_id = ? AND service = ?')
      .pluck()
      .all(deploymentId, service) as string[];
    const max = Math.max(0, ...names.map((n) => Number(/-(\d+)$/.exec(n)?.[1] ?? 0)));
    return `${service}-${max + 1}`;
  };
  const fkCheck = <T>(fn: () => T, what: { deploymentId: string; context?: ContextRef }): T => {
    try {
      return fn();
    } catch (err) {
      if (!isConstraint(err, 'FOREIGNKEY')) throw err;
      if (!db.prepare('SELECT 1 FROM deployments WHERE id = ?').get(what.deploymentId))
        throw new NotFoundError('deployment', what.deploymentId);
      throw new NotFoundError('context version', `${what.context?.id}@${what.context?.version}`);
    }
  };

  return {
    get,
    require,
    /** A new instance in state 'requested', before the cloud agent is asked. */
    add(input: {
      deploymentId: string;
      service: string;
      cloud: string;
      replica?: boolean;
      context?: ContextRef;
      requestId?: string;
    }): Instance {
      const id = deps.newId('i');
      db.transaction(() =>
        fkCheck(() => {
          const now = deps.now();
          const name = nextName(input.deploymentId, input.service);
          db.prepare(`INSERT INTO instances (id, deployment_id, service, name, cloud, replica, state, context_id, context_version, request_id, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?, ?, ?)`).run(
            id,
            input.deploymentId,
            input.service,
            name,
            input.cloud,
            input.replica ? 1 : 0,
            input.context?.id ?? null,
            input.context?.version ?? null,
            input.requestId ?? null,
            now,
            now,
          );
          events.append(input.deploymentId, {
            type: 'instance',
            message: `${name} requested on ${input.cloud}`,
            data: { instance: id, state: 'requested' },
          });
        }, input),
      )();
      return require(id);
    },
    /**
     * IllegalTransitionError unless INSTANCE_STATES allows it. Moving to 'booting' is
     * where the cloud's own id becomes known; leaving 'running' clears the ready flag.
     */
    transition(
      id: string,
      to: InstanceState,
      patch: { cloudInstanceId?: string; message?: string; reason?: string } = {},
    ): Instance {
      db.transaction(() => {
        const extra: Record<string, unknown> = {};
        if (patch.cloudInstanceId !== undefined) extra.cloud_instance_id = patch.cloudInstanceId;
        if (patch.reason !== undefined) extra.reason = patch.reason;
        if (to !== 'running') extra.ready = 0;
        const from = moveState(deps, 'instances', INSTANCE_STATES, 'instance', id, to, extra);
        const i = require(id);
        events.append(i.deploymentId, {
          type: 'instance',
          message: patch.message ?? `${i.name} ${from} -> ${to}`,
          data: { instance: id, from, to },
        });
      })();
      return require(id);
    },
    /** Liveness from the instance agent's presence or metrics. */
    heartbeat(id: string, beat: { ready?: boolean; at?: number } = {}): Instance {
      const sets = ['last_heartbeat = @at'];
      if (beat.ready !== undefined) sets.push('ready = @ready');
      const r = db
        .prepare(`UPDATE instances SET ${sets.join(', ')} WHERE id = @id`)
        .run({ id, at: beat.at ?? deps.now(), ...(beat.ready !== undefined ? { ready: beat.ready ? 1 : 0 } : {}) });
      if (r.changes !== 1) throw new NotFoundError('instance', id);
      return require(id);
    },
    /** Records that the instance now runs another context version (re-contextualization). */
    setContext(id: string, context: ContextRef): Instance {
      const i = require(id);
      db.transaction(() =>
        fkCheck(
          () => {
            db.prepare('UPDATE instances SET context_id = ?, context_version = ?, updated_at = ? WHERE id = ?').run(
              context.id,
              context.version,
              deps.now(),
              id,
            );
            events.append(i.deploymentId, {
              type: 'instance',
              message: `${i.name} context -> ${context.id}@${context.version}`,
              data: { instance: id, context },
            });
          },
          { deploymentId: i.deploymentId, context },
        ),
      )();
      return require(id);
    },
    /** Records what the cloud agent said about it: the cloud's own id, the agent's JID. */
    setCloudInfo(id: string, info: { cloudInstanceId?: string; jid?: string }): Instance {
      const sets: string[] = [];
      if (info.cloudInstanceId !== undefined) sets.push('cloud_instance_id = @cloudInstanceId');
      if (info.jid !== undefined) sets.push('jid = @jid');
      if (sets.length > 0) {
        const r = db.prepare(`UPDATE instances SET ${sets.join(', ')} WHERE id = @id`).run({ id, ...info });
        if (r.changes !== 1) throw new NotFoundError('instance', id);
      }
      return require(id);
    },
    byName(deploymentId: string, name: string): Instance | undefined {
      const r = db.prepare('SELECT * FROM instances WHERE deployment_id = ? AND name = ?').get(deploymentId, name) as
        | Row
        | undefined;
      return r && toInstance(r);
    },
    /** The newest instance whose agent logs in as `jid` (bare). */
    byJid(jid: string): Instance | undefined {
      const r = db.prepare('SELECT * FROM instances WHERE jid = ? ORDER BY created_at DESC LIMIT 1').get(jid) as
        | Row
        | undefined;
      return r && toInstance(r);
    },
    byRequest(requestId: string): Instance[] {
      return (
        db.prepare('SELECT * FROM instances WHERE request_id = ? ORDER BY created_at, name').all(requestId) as Row[]
      ).map(toInstance);
    },
    /** Instances of every deployment in the given states. */
    inStates(states: readonly InstanceState[]): Instance[] {
      return (
        db
          .prepare(
            `SELECT * FROM instances WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY created_at, name`,
          )
          .all(...states) as Row[]
      ).map(toInstance);
    },
    byCloudId(cloud: string, cloudInstanceId: string): Instance | undefined {
      const r = db
        .prepare('SELECT * FROM instances WHERE cloud = ? AND cloud_instance_id = ?')
        .get(cloud, cloudInstanceId) as Row | undefined;
      return r && toInstance(r);
    },
    list(deploymentId: string, filter: { service?: string; states?: readonly InstanceState[] } = {}): Instance[] {
      const where = ['deployment_id = ?'];
      const args: unknown[] = [deploymentId];
      if (filter.service !== undefined) {
        where.push('service = ?');
        args.push(filter.service);
      }
      if (filter.states?.length) {
        where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
        args.push(...filter.states);
      }
      return (
        db
          .prepare(`SELECT * FROM instances WHERE ${where.join(' AND ')} ORDER BY created_at, name`)
          .all(...args) as Row[]
      ).map(toInstance);
    },
  };
}

export type Instances = ReturnType<typeof createInstances>;
