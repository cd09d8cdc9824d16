/**
 * What the agent must remember across its own restarts (a reboot, a crashed process),
 * under <root>/var/lib/cloudgate, private to root (mode 0600: both hold a login token):
 *
 *  - context.ini.json: the context it last moved to, complete with its [cloudgate] section.
 *    User-data is immutable, so after a re-contextualization to v2 a reboot would find v1
 *    again and undo v2; and a pairing code works once, so a paired machine could not get
 *    its context a second time.
 *  - token.json: the newest token its cloud agent gave it, which outlives the one in the
 *    context it booted with.
 */
import { readIfExists, underRoot, writeDurably } from './context/index.js';

export const SAVED_CONTEXT = '/var/lib/cloudgate/context.ini.json';
export const SAVED_TOKEN = '/var/lib/cloudgate/token.json';

export interface SavedContext {
  jid: string;
  version: number;
  text: string;
  savedAt: string;
}
export interface SavedToken {
  jid: string;
  token: string;
  expires?: number;
}

async function readJson<T>(root: string, file: string, valid: (v: any) => boolean): Promise<T | undefined> {
  const buf = await Promise.resolve()
    .then(() => readIfExists(underRoot(root, file)))
    .catch(() => undefined);
  if (!buf) return undefined;
  try {
    const v = JSON.parse(buf.toString('utf8'));
    return valid(v) ? (v as T) : undefined;
  } catch {
    return undefined; // unreadable: start from the context sources as on first boot
  }
}

export function loadSavedContext(root: string): Promise<SavedContext | undefined> {
  return readJson(
    root,
    SAVED_CONTEXT,
    (v) => typeof v?.jid === 'string' && Number.isInteger(v?.version) && typeof v?.text === 'string',
  );
}

/** Both saves retry transient errors and throw only StateWriteError (path and code). */
export async function saveContext(root: string, c: Omit<SavedContext, 'savedAt'>): Promise<void> {
  await writeDurably(underRoot(root, SAVED_CONTEXT), JSON.stringify({ ...c, savedAt: new Date().toISOString() }), {
    mode: 0o600,
  });
}

export function loadSavedToken(root: string): Promise<SavedToken | undefined> {
  return readJson(root, SAVED_TOKEN, (v) => typeof v?.jid === 'string' && typeof v?.token === 'string');
}

export async function saveToken(root: string, t: SavedToken): Promise<void> {
  await writeDurably(underRoot(root, SAVED_TOKEN), JSON.stringify(t), { mode: 0o600 });
}
