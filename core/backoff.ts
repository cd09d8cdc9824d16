/** Exponential backoff with full jitter (AWS architecture blog's "full jitter"): spreads a
 * login storm of a thousand agents instead of having them retry in lock-step. */
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  factor?: number;
}

export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  const base = o.baseMs ?? 250;
  const max = o.maxMs ?? 30000;
  const cap = Math.min(max, base * (o.factor ?? 2) ** Math.max(0, attempt));
  return Math.floor(Math.random() * cap);
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
