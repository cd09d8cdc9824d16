/**
 * Scale-in choice: which instances of a scalable service to remove. Removing a busy
 * instance loses work, so no busy instance is chosen while an idle one remains; among the
 * idle, those not ready yet go first (booting: nothing of theirs is lost, and an
 * autoscaler that counted them as warming up asks for fewer), then those already draining (they were picked before and stopped taking
 * work), then the least loaded. Remaining ties prefer instances on less-preferred clouds,
 * so overflow clouds empty first and their fixed-service replicas can go too, then the
 * newest instance, then the id, so the same input always gives the same answer.
 */

export interface ScaleInCandidate {
  readonly id: string;
  /** Running work (jobs, sessions) that removal would lose. */
  readonly busy: boolean;
  /** Ready (serving); absent counts as ready. */
  readonly ready?: boolean;
  /** Already draining or drained: takes no new work. */
  readonly draining?: boolean;
  /** Current load, any consistent unit (running jobs, CPU share); absent counts as 0. */
  readonly load?: number;
  /** Rank of its cloud in the deployment's preference (higher is less preferred). */
  readonly cloudRank?: number;
  readonly createdAt?: number;
}

/** The `n` instances to remove, first to remove first (all of them if `n` >= length). */
export function pickScaleIn<T extends ScaleInCandidate>(instances: readonly T[], n: number): T[] {
  if (n <= 0) return [];
  const sorted = [...instances].sort(
    (a, b) =>
      Number(a.busy) - Number(b.busy) ||
      Number(a.ready ?? true) - Number(b.ready ?? true) ||
      Number(b.draining ?? false) - Number(a.draining ?? false) ||
      (a.load ?? 0) - (b.load ?? 0) ||
      (b.cloudRank ?? 0) - (a.cloudRank ?? 0) ||
      (b.createdAt ?? 0) - (a.createdAt ?? 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return sorted.slice(0, n);
}
