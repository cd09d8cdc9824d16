/**
 * Checks a user's XMPP password by logging in to the XMPP server as them (SASL, over TLS
 * where the server offers it) and leaving at once: the server stays the one place that
 * knows passwords, and the gateway stores none. Attempts are rate limited per address and
 * per account (a fixed window), so the endpoint cannot be used to guess passwords fast.
 */
import { randomBytes } from 'node:crypto';
import { Connection, ConnectionError, type Logger } from '../../core/index.js';

export type LoginResult = 'ok' | 'bad-credentials' | 'unavailable';

export interface LoginCheckOptions {
  service: string;
  domain: string;
  ca?: string;
  log: Logger;
  /** Failed attempts allowed per address and per account within `windowMs`. */
  maxFailures?: number;
  windowMs?: number;
  now?: () => number;
}

export function createLoginCheck(o: LoginCheckOptions) {
  const now = o.now ?? Date.now;
  const max = o.maxFailures ?? 5;
  const windowMs = o.windowMs ?? 60_000;
  const failures = new Map<string, { n: number; until: number }>();

  const count = (k: string) => {
    const f = failures.get(k);
    if (!f || f.until <= now()) return 0;
    return f.n;
  };
  const fail = (k: string) => {
    const f = failures.get(k);
    if (!f || f.until <= now()) failures.set(k, { n: 1, until: now() + windowMs });
    else f.n++;
    if (failures.size > 10_000) for (const [x, v] of failures) if (v.until <= now()) failures.delete(x);
  };

  return {
    /** Seconds until `address` or `jid` may try again, or 0. */
    retryAfter(address: string, jid: string): number {
      const blocked = [`a:${address}`, `u:${jid}`].map((k) => (count(k) >= max ? failures.get(k)!.until : 0));
      const until = Math.max(...blocked);
      return until > now() ? Math.ceil((until - now()) / 1000) : 0;
    },
    async check(address: string, jid: string, password: string): Promise<LoginResult> {
      const [username, domain] = jid.split('@');
      if (!username || domain !== o.domain || !password) {
        fail(`a:${address}`);
        return 'bad-credentials';
      }
      const conn = new Connection({
        kind: 'client',
        service: o.service,
        domain: o.domain,
        username,
        password,
        ca: o.ca,
        log: o.log,
        resource: `http-login-${randomBytes(4).toString('hex')}`,
        maxStartAttempts: 1,
      });
      try {
        await conn.start();
        return 'ok';
      } catch (err) {
        if (err instanceof ConnectionError && err.permanent) {
          fail(`a:${address}`);
          fail(`u:${jid}`);
          return 'bad-credentials';
        }
        o.log.warn({ err }, 'password check: the XMPP server did not answer');
        return 'unavailable';
      } finally {
        await conn.stop().catch(() => {});
      }
    },
  };
}

export type LoginCheck = ReturnType<typeof createLoginCheck>;
