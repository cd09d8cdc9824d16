/**
 * Browser sessions of the web pages: a random id in an HttpOnly, SameSite=Strict cookie
 * (Secure when the gateway serves TLS), kept in memory only (a gateway restart logs
 * everyone out), each with its own CSRF token that every state-changing form carries.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

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

export function createSessions(o: { ttlS?: number; now?: () => number } = {}) {
  const now = o.now ?? Date.now;
  const ttl = (o.ttlS ?? 8 * 3600) * 1000;
  const all = new Map<string, WebSession>();
  return {
    ttlS: ttl / 1000,
    open(user: string): WebSession {
      for (const [k, s] of all) if (s.expires <= now()) all.delete(k);
      const s = { id: newSecret(), user, csrf: newSecret(), expires: now() + ttl };
      all.set(s.id, s);
      return s;
    },
    get(id: string | undefined): WebSession | undefined {
      const s = id ? all.get(id) : undefined;
      if (!s) return undefined;
      if (s.expires <= now()) {
        all.delete(s.id);
        return undefined;
      }
      return s;
    },
    close(id: string): void {
      all.delete(id);
    },
  };
}

export type WebSessions = ReturnType<typeof createSessions>;
