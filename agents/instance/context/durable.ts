/**
 * Writes of the agent's own records (the applied state, the saved context, the renewed
 * token). An I/O error there is the machine's trouble (EMFILE in a crowded process, a full
 * or read-only /var, a directory where a file should be), never a reason to end the agent:
 * transient errors are retried with a growing delay, and a lasting one becomes a
 * StateWriteError naming the path and the system error code, for the caller to log and
 * report. Nothing here rejects for anything else.
 */
import { CloudgateError } from '../../../core/index.js';
import { writeAtomic, type WriteOptions } from './fsutil.js';

/** Errors that go away on their own: descriptors freed, memory or a lock released. */
const TRANSIENT = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR', 'ENOMEM']);

export interface RetryOptions {
  /** Tries in all (default 4). */
  attempts?: number;
  /** Delay before the second try, doubled each time (default 50 ms). */
  baseMs?: number;
  /** Called before each retry, with the error that caused it. */
  onRetry?: (err: NodeJS.ErrnoException, attempt: number, delayMs: number) => void;
}

/** A record could not be written: `path` and `errno` (EACCES, EMFILE, EISDIR, …) say where and why. */
export class StateWriteError extends CloudgateError {
  constructor(
    readonly path: string,
    readonly errno: string,
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    super(
      'CG_INSTANCE_STATE_WRITE',
      `could not write ${path} (${errno}${attempts > 1 ? ` after ${attempts} tries` : ''})`,
      options,
    );
  }
}

export function errnoOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

/** Runs `write` until it succeeds, retrying transient errors; throws StateWriteError otherwise. */
export async function retryTransient(path: string, write: () => Promise<void>, o: RetryOptions = {}): Promise<void> {
  const attempts = Math.max(1, o.attempts ?? 4);
  for (let i = 1; ; i++) {
    try {
      await write();
      return;
    } catch (err) {
      const code = errnoOf(err);
      if (!TRANSIENT.has(code) || i >= attempts) throw new StateWriteError(path, code, i, { cause: err });
      const delay = (o.baseMs ?? 50) * 2 ** (i - 1);
      o.onRetry?.(err as NodeJS.ErrnoException, i, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** writeAtomic with retries; throws only StateWriteError. */
export function writeDurably(
  path: string,
  data: string | Uint8Array,
  opts: WriteOptions = {},
  retry: RetryOptions = {},
): Promise<void> {
  return retryTransient(path, () => writeAtomic(path, data, opts), retry);
}
