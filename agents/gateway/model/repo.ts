/**
 * Shared plumbing of the gateway repositories: their dependencies, ids, JSON columns,
 * and the compare-and-set state change every lifecycle table uses.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../../core/index.js';
import { IllegalTransitionError, NotFoundError } from './errors.js';
import { assertTransition, type Machine } from './states.js';

export interface RepoDeps {
  readonly db: Db;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now: () => number;
  /** A fresh id with the given prefix ('d' deployment, 'i' instance, 'j' job, 'c' context). */
  readonly newId: (prefix: string) => string;
}

/** Short enough to type in a chat command, 48 random bits: collisions are a primary-key
 * error, not silent corruption. */
export function randomId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export function toJson(v: unknown): string {
  return JSON.stringify(v);
}

export function fromJson<T = unknown>(s: string | null): T | undefined {
  return s === null ? undefined : (JSON.parse(s) as T);
}

export function isConstraint(err: unknown, kind: 'UNIQUE' | 'FOREIGNKEY' | 'PRIMARYKEY'): boolean {
  return (err as { code?: string } | null)?.code === `SQLITE_CONSTRAINT_${kind}`;
}

/**
 * Moves row `id` of `table` to state `to` if the machine allows it from its current
 * state, setting `extra` columns too. The UPDATE repeats the state it read in its WHERE,
 * so a concurrent change is detected instead of overwritten. Returns the previous state.
 * Call inside a transaction when something else (an event) must change with it.
 */
export function moveState(
  deps: RepoDeps,
  table: string,
  machine: Machine,
  entity: string,
  id: string,
  to: string,
  extra: Record<string, unknown> = {},
): string {
  const row = deps.db.prepare(`SELECT state FROM ${table} WHERE id = ?`).get(id) as { state: string } | undefined;
  if (!row) throw new NotFoundError(entity, id);
  assertTransition(machine, entity, id, row.state, to);
  const sets = ['state = @to', 'updated_at = @now', ...Object.keys(extra).map((k) => `${k} = @${k}`)].join(', ');
  const r = deps.db
    .prepare(`UPDATE ${table} SET ${sets} WHERE id = @id AND state = @from`)
    .run({ ...extra, to, now: deps.now(), id, from: row.state });
  if (r.changes !== 1) throw new IllegalTransitionError(entity, id, row.state, to);
  return row.state;
}
