/**
 * Credentials of the HTTP API. The user's password is checked by the XMPP server (a SASL
 * login, http-login.ts) and never stored. What the gateway hands out:
 *  - access tokens: JWTs (HS256, a key made at start-up), short-lived, never stored;
 *  - refresh tokens and API tokens: 256 random bits, stored only as a SHA-256 hash (a copy
 *    of the database opens nothing; the input has no dictionary to try), each with its
 *    owner, scope ('read' or 'full'), expiry and revocation, checked on every request so a
 *    revoked token is refused at once.
 * Idempotency keys remember the first answer to a POST for a day.
 */
import { createHash, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { uniqueId } from '../../core/index.js';
import type { GatewayModel } from './model/index.js';

export type Scope = 'read' | 'full';
export interface TokenInfo {
  id: string;
  name: string;
  owner: string;
  kind: 'api' | 'refresh';
  scope: Scope;
  created: string;
  expires?: string;
  last_used?: string;
}
/** Who a request is, once its bearer token checked out. */
export interface Principal {
  user: string;
  scope: Scope;
  via: 'access' | 'api';
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS http_tokens (
  id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('api', 'refresh')),
  scope TEXT NOT NULL CHECK (scope IN ('read', 'full')), created_at INTEGER NOT NULL, expires_at INTEGER, last_used_at INTEGER, revoked_at INTEGER);
  CREATE INDEX IF NOT EXISTS http_tokens_owner ON http_tokens (owner);
  CREATE TABLE IF NOT EXISTS http_idempotency (
  owner TEXT NOT NULL, key TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, location TEXT, created_at INTEGER NOT NULL,
  PRIMARY KEY (owner, key));`;

interface Row {
  id: string;
  hash: string;
  owner: string;
  name: string;
  kind: 'api' | 'refresh';
  scope: Scope;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());
const view = (r: Row): TokenInfo => ({
  id: r.id,
  name: r.name,
  owner: r.owner,
  kind: r.kind,
  scope: r.scope,
  created: new Date(r.created_at).toISOString(),
  ...(r.expires_at !== null ? { expires: iso(r.expires_at) } : {}),
  ...(r.last_used_at !== null ? { last_used: iso(r.last_used_at) } : {}),
});

export function createHttpTokens(o: {
  model: GatewayModel;
  accessTtlS: number;
  refreshTtlS: number;
  issuer: string;
  now?: () => number;
}) {
  const db = o.model.db;
  db.exec(SCHEMA);
  const now = o.now ?? Date.now;
  const key = new Uint8Array(randomBytes(32));

  const issue = (
    owner: string,
    name: string,
    kind: 'api' | 'refresh',
    scope: Scope,
    ttlS?: number,
  ): { token: string; info: TokenInfo } => {
    const token = `cg_${kind === 'api' ? 'api' : 'rt'}_${randomBytes(32).toString('base64url')}`;
    const t = now();
    const id = `tok-${uniqueId()}`;
    db.prepare(
      'INSERT INTO http_tokens (id, hash, owner, name, kind, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(id, hashOf(token), owner, name, kind, scope, t, ttlS !== undefined ? t + ttlS * 1000 : null);
    return { token, info: view(db.prepare('SELECT * FROM http_tokens WHERE id = ?').get(id) as Row) };
  };

  /** The stored token `token` names, if it is live (not revoked, not expired). */
  const live = (token: string, kind: 'api' | 'refresh'): Row | undefined => {
    const r = db.prepare('SELECT * FROM http_tokens WHERE hash = ? AND kind = ?').get(hashOf(token), kind) as
      | Row
      | undefined;
    if (!r || r.revoked_at !== null || (r.expires_at !== null && r.expires_at <= now())) return undefined;
    return r;
  };

  return {
    async accessToken(user: string, scope: Scope): Promise<{ token: string; expiresIn: number }> {
      const token = await new SignJWT({ scope })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user)
        .setIssuer(o.issuer)
        .setIssuedAt(Math.floor(now() / 1000))
        .setExpirationTime(Math.floor(now() / 1000) + o.accessTtlS)
        .sign(key);
      return { token, expiresIn: o.accessTtlS };
    },
    refreshToken: (user: string) => issue(user, 'login', 'refresh', 'full', o.refreshTtlS).token,
    /** Trades a refresh token for a new one (the old one is revoked: each is used once). */
    rotate(refresh: string): string | undefined {
      const r = live(refresh, 'refresh');
      if (!r) return undefined;
      db.prepare('UPDATE http_tokens SET revoked_at = ? WHERE id = ?').run(now(), r.id);
      return r.owner;
    },
    apiToken: (user: string, name: string, scope: Scope, ttlS?: number) => issue(user, name, 'api', scope, ttlS),
    list: (user: string): TokenInfo[] =>
      (
        db
          .prepare(
            "SELECT * FROM http_tokens WHERE owner = ? AND kind = 'api' AND revoked_at IS NULL ORDER BY created_at, id",
          )
          .all(user) as Row[]
      )
        .filter((r) => r.expires_at === null || r.expires_at > now())
        .map(view),
    /** Revokes the caller's API token `id`; false when the caller has no such live token. */
    revoke: (user: string, id: string): boolean =>
      db
        .prepare(
          "UPDATE http_tokens SET revoked_at = ? WHERE id = ? AND owner = ? AND kind = 'api' AND revoked_at IS NULL",
        )
        .run(now(), id, user).changes > 0,
    /** Ends every refresh token of the user (logout). */
    logout: (user: string) => {
      db.prepare(
        "UPDATE http_tokens SET revoked_at = ? WHERE owner = ? AND kind = 'refresh' AND revoked_at IS NULL",
      ).run(now(), user);
    },
    /** The principal of a bearer token, or undefined for a bad, expired or revoked one. */
    async verify(bearer: string): Promise<Principal | undefined> {
      if (bearer.startsWith('cg_api_')) {
        const r = live(bearer, 'api');
        if (!r) return undefined;
        db.prepare('UPDATE http_tokens SET last_used_at = ? WHERE id = ?').run(now(), r.id);
        return { user: r.owner, scope: r.scope, via: 'api' };
      }
      try {
        const { payload } = await jwtVerify(bearer, key, {
          issuer: o.issuer,
          algorithms: ['HS256'],
          currentDate: new Date(now()),
        });
        if (typeof payload.sub !== 'string') return undefined;
        return { user: payload.sub, scope: payload.scope === 'read' ? 'read' : 'full', via: 'access' };
      } catch {
        return undefined;
      }
    },
    idempotency: {
      get(owner: string, k: string): { status: number; body: unknown; location?: string } | undefined {
        const r = db
          .prepare('SELECT status, body, location FROM http_idempotency WHERE owner = ? AND key = ? AND created_at > ?')
          .get(owner, k, now() - 86_400_000) as { status: number; body: string; location: string | null } | undefined;
        return r && { status: r.status, body: JSON.parse(r.body), ...(r.location ? { location: r.location } : {}) };
      },
      put(owner: string, k: string, status: number, body: unknown, location?: string): void {
        db.prepare(
          'INSERT OR REPLACE INTO http_idempotency (owner, key, status, body, location, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        ).run(owner, k, status, JSON.stringify(body), location ?? null, now());
      },
    },
  };
}

export type HttpTokens = ReturnType<typeof createHttpTokens>;
