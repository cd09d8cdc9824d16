/**
 * The instance's login token. Its cloud agent minted it with a short life (DESIGN.md,
 * security notes); an established session outlives it, a reconnect does not. So the agent
 * asks the cloud agent for a fresh one (cloud RenewToken) well before expiry, and every
 * (re)login takes the newest through the connection's `refresh` callback.
 */
import type { Logger } from 'pino';
import { backoffDelay, type Agent, type AgentModule } from '../../core/index.js';
import { cloud as proto } from '../../protocols/index.js';

const { RenewToken } = proto;

export interface TokenHolder {
  token: string;
  /** Unix seconds; undefined when neither the context nor the token says. */
  expires?: number;
}

/** The `exp` claim of a JWT, without verifying it (the server does). */
export function jwtExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When to renew: two thirds into the remaining life, and at least a minute before expiry
 * when the life allows it; never sooner than `minMs`.
 */
export function renewalDelayMs(expires: number, nowMs: number, minMs = 1000): number {
  const left = expires * 1000 - nowMs;
  return Math.max(minMs, Math.min((left * 2) / 3, left - 60_000));
}

export interface RenewalDeps {
  holder: TokenHolder;
  /** The cloud agent to ask (read at each renewal: a new context may name another). */
  cloud: () => string | undefined;
  log: Logger;
  /** Called with each renewed token (the agent saves it for its next start). */
  onRenewed?: (t: TokenHolder) => Promise<void> | void;
}

export function tokenRenewal({ holder, cloud, log, onRenewed }: RenewalDeps): AgentModule {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failures = 0;

  const schedule = (agent: Agent, ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void renew(agent), ms);
    timer.unref();
  };

  const renew = async (agent: Agent) => {
    const to = cloud();
    if (!to) {
      log.warn(
        { expires: holder.expires },
        'no cloud agent named in [cloudgate] cloud: the login token will not be renewed',
      );
      return;
    }
    try {
      // An IQ to a bare JID is answered by the server, not the account: ask the session.
      const peer = agent.presence.get(to);
      if (!peer) {
        // It may have restarted and lost our directed presence: announce again, it answers.
        await agent.announceTo(to).catch(() => undefined);
        throw new Error(`cloud agent ${to} is not online`);
      }
      const r = await agent.request(RenewToken, peer.jid, {});
      holder.token = r.token;
      holder.expires = r.expires || jwtExpiry(r.token);
      failures = 0;
      log.info({ expires: holder.expires, from: to }, 'login token renewed');
      await onRenewed?.({ ...holder });
      if (holder.expires !== undefined) schedule(agent, renewalDelayMs(holder.expires, Date.now()));
    } catch (err) {
      if (stopped) return;
      const delay = backoffDelay(failures++, { baseMs: 2000, maxMs: 60_000 }) + 1000;
      log.warn({ err, from: to, retryInMs: delay }, 'token renewal failed; retrying');
      schedule(agent, delay);
    }
  };

  return {
    name: 'token-renewal',
    start(agent) {
      const exp = holder.expires ?? jwtExpiry(holder.token);
      if (exp === undefined) {
        log.info('login token has no known expiry; not renewing it');
        return;
      }
      holder.expires = exp;
      schedule(agent, renewalDelayMs(exp, Date.now()));
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
