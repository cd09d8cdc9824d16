/**
 * Autoscaling settings of a deployment's services: a policy set after deployment (it
 * replaces the one its definition carried) and whether the policy is paused. Rows exist
 * only for services whose settings were changed.
 */
import type { AutoscalePolicy } from './autoscale-policy.js';
import type { Deployment } from './deployments.js';
import { fromJson, toJson, type RepoDeps } from './repo.js';

export interface AutoscaleSetting {
  readonly service: string;
  /** The policy in force: set for this deployment, or its definition's; undefined: none. */
  readonly policy?: AutoscalePolicy;
  readonly paused: boolean;
  /** Why it was last paused or resumed, and by whom. */
  readonly note?: string;
}

interface Row {
  service: string;
  policy: string | null;
  paused: number;
  note: string | null;
}

export function createAutoscale(deps: RepoDeps) {
  const { db } = deps;
  const row = (id: string, service: string) =>
    db
      .prepare('SELECT service, policy, paused, note FROM autoscale WHERE deployment_id = ? AND service = ?')
      .get(id, service) as Row | undefined;
  const upsert = (
    id: string,
    service: string,
    patch: { policy?: AutoscalePolicy; paused?: boolean; note?: string },
  ) => {
    const cur = row(id, service);
    db.prepare(`INSERT INTO autoscale (deployment_id, service, policy, paused, note, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (deployment_id, service) DO UPDATE SET policy = excluded.policy, paused = excluded.paused, note = excluded.note, updated_at = excluded.updated_at`).run(
      id,
      service,
      patch.policy ? toJson(patch.policy) : (cur?.policy ?? null),
      Number(patch.paused ?? cur?.paused ?? 0),
      patch.note ?? cur?.note ?? null,
      deps.now(),
    );
  };
  const setting = (d: Deployment, service: string): AutoscaleSetting => {
    const r = row(d.id, service);
    const s = d.definition.services.find((x) => x.name === service);
    const policy = r?.policy ? fromJson<AutoscalePolicy>(r.policy) : s?.type === 'scalable' ? s.autoscale : undefined;
    return {
      service,
      ...(policy ? { policy } : {}),
      paused: r ? r.paused === 1 : (policy?.paused ?? false),
      ...(r?.note ? { note: r.note } : {}),
    };
  };
  return {
    setting,
    /** Settings of every scalable service of `d` that has a policy. */
    list(d: Deployment): AutoscaleSetting[] {
      return d.definition.services
        .filter((s) => s.type === 'scalable')
        .map((s) => setting(d, s.name))
        .filter((x) => x.policy);
    },
    setPaused(id: string, service: string, paused: boolean, note: string): void {
      upsert(id, service, { paused, note });
    },
    setPolicy(id: string, service: string, policy: AutoscalePolicy, note: string): void {
      upsert(id, service, { policy, paused: policy.paused, note });
    },
  };
}

export type Autoscale = ReturnType<typeof createAutoscale>;

/** What one autoscaling tick reads, in a few lean queries (a tick covers every deployment). */
export interface ScaledRow {
  readonly id: string;
  readonly service: string;
  readonly replica: boolean;
  readonly ready: boolean;
  readonly createdAt: number;
}

export function createAutoscaleReads(deps: RepoDeps) {
  const { db } = deps;
  return {
    /** Completed, not destroyed deployments: the ones policies act on. */
    live(): string[] {
      return db
        .prepare("SELECT id FROM deployments WHERE state = 'completed' AND destroyed_at IS NULL")
        .pluck()
        .all() as string[];
    },
    /** Every changed setting, by `deployment service`. */
    overrides(): Map<string, { policy?: AutoscalePolicy; paused: boolean }> {
      const rows = db.prepare('SELECT deployment_id, service, policy, paused FROM autoscale').all() as Array<{
        deployment_id: string;
        service: string;
        policy: string | null;
        paused: number;
      }>;
      return new Map(
        rows.map((r) => [
          `${r.deployment_id} ${r.service}`,
          { ...(r.policy ? { policy: fromJson<AutoscalePolicy>(r.policy)! } : {}), paused: r.paused === 1 },
        ]),
      );
    },
    /** Every wanted count, by `deployment service`. */
    wanted(): Map<string, number> {
      const rows = db.prepare('SELECT deployment_id, service, wanted FROM deployment_services').all() as Array<{
        deployment_id: string;
        service: string;
        wanted: number;
      }>;
      return new Map(rows.map((r) => [`${r.deployment_id} ${r.service}`, r.wanted]));
    },
    /**
     * The deployments with events after `seq`, and the newest seq (without `seq`: none, and
     * the newest). Every instance added or moved appends one in the same transaction.
     */
    changedSince(seq?: number): { deployments: Set<string>; seq: number } {
      if (seq === undefined) {
        const top = db.prepare('SELECT MAX(seq) FROM events').pluck().get() as number | null;
        return { deployments: new Set(), seq: top ?? 0 };
      }
      const rows = db
        .prepare('SELECT deployment_id, MAX(seq) FROM events WHERE seq > ? GROUP BY deployment_id')
        .raw()
        .all(seq) as Array<[string, number]>;
      return { deployments: new Set(rows.map((r) => r[0])), seq: rows.reduce((top, r) => Math.max(top, r[1]), seq) };
    },
    /** Active (requested, booting, running) instances of a deployment. */
    active(deploymentId: string): ScaledRow[] {
      const rows = db
        .prepare(`SELECT id, service, replica, ready, created_at FROM instances
        WHERE deployment_id = ? AND state IN ('requested', 'booting', 'running')`)
        .raw()
        .all(deploymentId) as Array<[string, string, number, number, number]>;
      return rows.map(([id, service, replica, ready, createdAt]) => ({
        id,
        service,
        replica: replica === 1,
        ready: ready === 1,
        createdAt,
      }));
    },
  };
}
