/**
 * How a client logs in: a JID on an XMPP server with a password, a ready JWT, or a JWT key
 * from which it mints its own short-lived login (ejabberd's jwt auth), plus the CA that
 * signed the server's certificate and the gateway to talk to.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, conf, loadJwtKey, mintToken, type XmppOptions, type JwtKey } from '../../../core/index.js';

export interface ClientOptions {
  /** host:port, [v6]:port, or xmpp://host:port (port 5222 if absent). */
  server: string;
  /** user@domain, optionally /resource. */
  jid: string;
  password?: string;
  token?: string;
  /** A JWK file (or a loaded key) for the user's host: the client mints its own token. */
  jwtKey?: string | JwtKey;
  tokenTtlS?: number;
  /** PEM text of the CA that signed the server certificate (system CAs when absent). */
  ca?: string;
  /** The gateway's JID: bare (found by presence), full, or a component domain. Default gateway@<domain>. */
  gateway?: string;
  log?: Logger;
  /** How long to wait for the gateway's presence before giving up (default 10 s). */
  gatewayTimeoutMs?: number;
  /** Connection attempts before connect() gives up (default 3). */
  maxStartAttempts?: number;
}

export function parseServer(server: string): string {
  const s = server.replace(/^xmpp:\/\//, '');
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/[\]]+))(?::(\d+))?$/.exec(s);
  if (!m) throw new ConfigError(`server: expected host:port, got '${server}'`);
  const port = m[3] !== undefined ? Number(m[3]) : 5222;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ConfigError(`server: port ${port} is out of range 1-65535`);
  const host = m[1] ? `[${m[1]}]` : m[2];
  return `xmpp://${host}:${port}`;
}

/** Splits a client JID; throws ConfigError naming the problem. */
export function splitJid(jid: string): { username: string; domain: string; resource?: string } {
  let full: string;
  try {
    full = conf.normalizeJid(jid);
  } catch (err) {
    throw new ConfigError(`jid: ${(err as Error).message}`, { cause: err });
  }
  const slash = full.indexOf('/');
  const bare = slash < 0 ? full : full.slice(0, slash);
  const at = bare.indexOf('@');
  if (at < 1) throw new ConfigError(`jid: '${jid}' must be user@domain`);
  return {
    username: bare.slice(0, at),
    domain: bare.slice(at + 1),
    resource: slash < 0 ? undefined : full.slice(slash + 1),
  };
}

export async function toXmppOptions(o: ClientOptions): Promise<XmppOptions> {
  const { username, domain, resource } = splitJid(o.jid);
  const service = parseServer(o.server);
  const given = [o.password && 'password', o.token && 'token', o.jwtKey && 'jwt key'].filter(Boolean);
  if (given.length !== 1)
    throw new ConfigError(
      `set exactly one of password, token, jwt key (found ${given.length ? given.join(', ') : 'none'})`,
    );
  // Each CLI run is its own session: a fresh resource keeps two runs from replacing each other.
  const base = {
    kind: 'client' as const,
    service,
    domain,
    username,
    ca: o.ca,
    resource: resource ?? `cli-${process.pid}-${Date.now().toString(36)}`,
    maxStartAttempts: o.maxStartAttempts ?? 3,
  };
  if (o.password) return { ...base, password: o.password };
  if (o.token) return { ...base, password: o.token, isToken: true };
  const key = typeof o.jwtKey === 'string' ? await loadJwtKey(o.jwtKey) : o.jwtKey!;
  const mint = async () => (await mintToken(key, `${username}@${domain}`, o.tokenTtlS ?? 3600)).token;
  return { ...base, password: await mint(), refresh: mint, isToken: true };
}

export function readCaFile(file: string, what = 'ca'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { cause: err },
    );
  }
}
