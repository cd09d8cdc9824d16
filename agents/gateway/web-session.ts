/**
 * Browser sessions of the web pages: a random id in an HttpOnly, SameSite=Strict cookie
 * (Secure when the gateway serves TLS), kept in the gateway's database (a restart logs
 * nobody out; logout deletes the row), each with its own CSRF token that every
 * state-changing form carries.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../core/index.js';

export interface WebSession {
  id: string;
  user: string;
  csrf: string;
  expires: number;
}

export const SESSION_COOKIE = 'cg_session';
/** Before login: the login form's CSRF token, paired with this cookie. */
export const LOGIN_COOKIE = 'cg_login';

export const newSecret = () => randomBytes(32).toString('base64url');

/** The cookies of a Cookie header (first value of each name). */
export function cookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 1) continue;
    const k = part.slice(0, i).trim();
    if (!out.has(k)) out.set(k, part.slice(i + 1).trim());
  }
  return out;
}

export function setCookie(name: string, value: string, o: { secure: boolean; maxAgeS?: number }): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict${o.secure ? '; Secure' : ''}${o.maxAgeS !== undefined ? `; Max-Age=${o.maxAgeS}` : ''}`;
}

export const sameSecret = (a: unknown, b: string | undefined): boolean =>
  typeof a === 'string' && b !== undefined && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const TABLE = `CREATE TABLE IF NOT EXISTS web_sessions (
  hash TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL, expires_at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS web_sessions_expiry ON web_sessions (expires_at);`;

/** The id as stored: a copy of the database opens no session (the id has 256 random bits). */
const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

/** Sessions kept in the gateway's SQLite database, so a restart logs nobody out. Expired rows go on each login. */
export function createSessions(o: { db: Db; ttlS?: number; now?: () => number }) {
  const now = o.now ?? Date.now;
  const ttl = (o.ttlS ?? 8 * 3600) * 1000;
  const { db } = o;
  // Not one of the model's numbered migrations: sessions live hours, nothing to migrate.
  db.exec(TABLE);
  const insert = db.prepare('INSERT INTO web_sessions (hash, user, csrf, expires_at) VALUES (?, ?, ?, ?)');
  const select = db.prepare('SELECT user, csrf, expires_at FROM web_sessions WHERE hash = ?');
  const remove = db.prepare('DELETE FROM web_sessions WHERE hash = ?');
  const sweep = db.prepare('DELETE FROM web_sessions WHERE expires_at <= ?');
  return {
    ttlS: ttl / 1000,
    open(user: string): WebSession {
      sweep.run(now());
      const s = { id: newSecret(), user, csrf: newSecret(), expires: now() + ttl };
      insert.run(hashOf(s.id), s.user, s.csrf, s.expires);
      return s;
    },
    get(id: string | undefined): WebSession | undefined {
      if (!id || id.length > 128) return undefined;
      const r = select.get(hashOf(id)) as { user: string; csrf: string; expires_at: number } | undefined;
      if (!r) return undefined;
      if (r.expires_at <= now()) {
        remove.run(hashOf(id));
        return undefined;
      }
      return { id, user: r.user, csrf: r.csrf, expires: r.expires_at };
    },
    close(id: string): void {
      remove.run(hashOf(id));
    },
  };
}

export type WebSessions = ReturnType<typeof createSessions>;
