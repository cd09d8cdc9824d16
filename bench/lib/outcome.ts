/**
 * A benchmark's run is bounded and always yields its JSON object: the fields measured so
 * far, plus `error` when a step failed or the deadline passed. The deadline aborts the
 * signal handed to the work, so waits end and cleanups run before the result is printed.
 */
export type Result = Record<string, unknown>;

export class DeadlineError extends Error {
  constructor(readonly seconds: number) { super(`the benchmark did not finish within ${seconds} s`); }
}

export async function outcome(deadlineS: number, work: (result: Result, signal: AbortSignal) => Promise<void>): Promise<Result> {
  const result: Result = {};
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new DeadlineError(deadlineS)), deadlineS * 1000);
  try {
    await work(result, ac.signal);
  } catch (err) {
    result.error = describe(ac.signal.aborted ? ac.signal.reason : err);
  } finally {
    clearTimeout(timer);
  }
  return result;
}

/** Rejects with the signal's reason once it is aborted: race any wait against it. */
export function aborted(signal: AbortSignal): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  p.catch(() => {});
  return p;
}

export function describe(err: unknown): string {
  const e = err as { message?: string; condition?: string };
  return String(e?.message ?? e?.condition ?? err).slice(0, 2000);
}
