/**
 * Pacing for login storms (DESIGN.md: hundreds of simultaneous TLS logins time out in
 * @xmpp/client and can fail at the listener): at most `concurrency` tasks run at once,
 * and a failed task is tried again after a full-jitter backoff (core/backoff.ts), holding
 * its slot meanwhile, so a struggling server sees fewer new attempts, not more.
 */
import { backoffDelay, sleep } from '../../core/index.js';

export interface PaceOptions {
  concurrency: number;
  /** Tries per item, the first included (default 3). */
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  signal?: AbortSignal;
  /** Told of every failed try that will be tried again. */
  onRetry?: (index: number, attempt: number, err: unknown) => void;
}

export interface Paced<R> {
  /** By item index; undefined where every try failed (see `errors`). */
  results: Array<R | undefined>;
  errors: Map<number, unknown>;
  /** Tries beyond the first, over all items. */
  retries: number;
}

export async function paced<T, R>(
  items: readonly T[],
  o: PaceOptions,
  fn: (item: T, index: number) => Promise<R>,
): Promise<Paced<R>> {
  const attempts = Math.max(1, o.attempts ?? 3);
  const out: Paced<R> = {
    results: Array.from({ length: items.length }, () => undefined),
    errors: new Map(),
    retries: 0,
  };
  let next = 0;
  const worker = async () => {
    while (next < items.length && !o.signal?.aborted) {
      const i = next++;
      for (let attempt = 1; ; attempt++) {
        try {
          out.results[i] = await fn(items[i]!, i);
          break;
        } catch (err) {
          if (attempt >= attempts || o.signal?.aborted) {
            out.errors.set(i, err);
            break;
          }
          out.retries++;
          o.onRetry?.(i, attempt, err);
          await sleep(backoffDelay(attempt - 1, { baseMs: o.baseMs ?? 500, maxMs: o.maxMs ?? 10_000 }), o.signal);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, items.length)) }, worker));
  return out;
}
