/**
 * A benchmark's run is bounded and always yields its JSON object: the fields measured so
 * far, plus `error` when a step failed or the deadline passed. The deadline aborts the
 * signal handed to the work, so waits end and cleanups run before the result is printed.
 */
export type Result = Record<string, unknown>;

export class DeadlineError extends Error {
  constructor(readonly seconds: number) {
    super(`the benchmark did not finish within ${seconds} s`);
  }
}

export async function outcome(
  deadlineS: number,
  work: (result: Result, signal: AbortSignal) => Promise<void>,
): Promise<Result> {
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

/** `p`, or the signal's reason once it is aborted first; the listener goes when `p` settles. */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {}); // nobody waits for it any more: its failure must not go unhandled
    return Promise.reject(signal.reason);
  }
  let off = () => {};
  const stop = new Promise<never>((_, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    off = () => signal.removeEventListener('abort', onAbort);
  });
  return Promise.race([p, stop]).finally(off);
}

export function describe(err: unknown): string {
  const e = err as { message?: string; condition?: string };
  return String(e?.message ?? e?.condition ?? err).slice(0, 2000);
}
