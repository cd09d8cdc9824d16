/**
 * What has been applied on this machine, in <root>/var/lib/cloudgate/context.json, so a
 * restarted agent or a newer context version re-applies only what changed. It records
 * steps (a plugin, or a plugin phase such as `scripts:before`) with the hash of what they
 * applied; a failed step is dropped so the next attempt runs it again. No values are
 * stored: sections may hold secrets.
 */
import { createHash } from 'node:crypto';
import { writeDurably, type RetryOptions } from './durable.js';
import { underRoot, readIfExists } from './fsutil.js';
import type { Json } from './plugin.js';

export const STATE_FILE = '/var/lib/cloudgate/context.json';

export interface StepState {
  hash: string;
  version: number | null;
  appliedAt: string;
}

export interface AppliedState {
  /** The version last attempted. */
  version: number | null;
  contextId?: string;
  /** False when a step failed: the machine holds a mix of versions, see `steps`. */
  complete: boolean;
  updatedAt: string;
  steps: Record<string, StepState>;
}

export function hashOf(value: Json): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** The recorded state, or undefined when there is none or it is unreadable (then everything re-applies). */
export async function readState(root: string): Promise<AppliedState | undefined> {
  // Unreadable includes a read that fails (EACCES, EISDIR, EMFILE): applying must not fail for it.
  const buf = await readIfExists(underRoot(root, STATE_FILE)).catch(() => undefined);
  if (!buf) return undefined;
  try {
    const s = JSON.parse(buf.toString('utf8')) as AppliedState;
    if (typeof s !== 'object' || s === null || typeof s.steps !== 'object' || s.steps === null) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

/** Throws only StateWriteError (transient errors are retried first). */
export async function writeState(root: string, state: AppliedState, retry: RetryOptions = {}): Promise<void> {
  await writeDurably(underRoot(root, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 }, retry);
}
