/**
 * Wanted counts: how many instances of each service a deployment should have. A fixed
 * service's count is fixed by its definition; a scalable service's moves with scale
 * requests (between its min and max) and drops to 0 when the deployment is destroyed.
 * Fixed-service replicas in overflow clouds are not counted here: where they are needed
 * follows from where scalable instances run.
 */
import type { RepoDeps } from './repo.js';

export function createWanted(deps: RepoDeps) {
  const { db } = deps;
  return {
    set(deploymentId: string, service: string, wanted: number): void {
      db.prepare(`INSERT INTO deployment_services (deployment_id, service, wanted) VALUES (?, ?, ?)
        ON CONFLICT (deployment_id, service) DO UPDATE SET wanted = excluded.wanted`).run(
        deploymentId,
        service,
        wanted,
      );
    },
    get(deploymentId: string, service: string): number | undefined {
      return db
        .prepare('SELECT wanted FROM deployment_services WHERE deployment_id = ? AND service = ?')
        .pluck()
        .get(deploymentId, service) as number | undefined;
    },
    /** service -> wanted count. */
    all(deploymentId: string): Map<string, number> {
      const rows = db
        .prepare('SELECT service, wanted FROM deployment_services WHERE deployment_id = ?')
        .all(deploymentId) as Array<{ service: string; wanted: number }>;
      return new Map(rows.map((r) => [r.service, r.wanted]));
    },
  };
}

export type Wanted = ReturnType<typeof createWanted>;
