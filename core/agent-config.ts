/**
 * The [xmpp] and [log] sections every agent's INI file shares, and how they become a
 * running Agent. An agent logs in with a password, or with a JWT it mints from a key
 * file the operator gave it (`jwt_key`), or with a ready token (`token`).
 */
import { readFileSync } from 'node:fs';
import { section, str, jid, path, hostPort, hostPortList, enumOf, int } from './config.js';
import { ConfigError } from './errors.js';
import { loadJwtKey, mintToken } from './jwt.js';
import type { XmppOptions } from './agent.js';

export const xmppSection = section({
  /** user@domain (client) or the component's domain. */
  jid: jid(),
  mode: enumOf(['client', 'component'] as const, { default: 'client' }),
  server: hostPort({ default: '127.0.0.1:5222', defaultPort: 5222 }),
  /** The nodes of an ejabberd cluster, tried in turn; `server` is ignored when this is set. */
  servers: hostPortList({ optional: true, defaultPort: 5222 }),
  password: str({ optional: true, secret: true }),
  token: str({ optional: true, secret: true }),
  jwt_key: path({ optional: true }),
  token_ttl_s: int({ min: 60, default: 3600 }),
  /** CA certificate (PEM) that signed the server's certificate; system CAs if absent. */
  ca: path({ optional: true }),
  resource: str({ optional: true }),
});

export const logSection = section(
  {
    level: enumOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info' }),
    file: path({ optional: true }),
  },
  { optional: true },
);

type XmppSection = {
  jid: string;
  mode: 'client' | 'component';
  server: { host: string; port: number };
  servers?: ReadonlyArray<{ host: string; port: number }>;
  password?: string;
  token?: string;
  jwt_key?: string;
  token_ttl_s: number;
  ca?: string;
  resource?: string;
};

/** Turns a validated [xmpp] section into connection options (minting a token if asked). */
export async function xmppOptions(x: XmppSection, file: string): Promise<XmppOptions> {
  const url = (s: { host: string; port: number }) =>
    `xmpp://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
  const services = (x.servers?.length ? x.servers : [x.server]).map(url);
  const service = services[0];
  const ca = x.ca ? readCa(x.ca, file) : undefined;
  if (x.mode === 'component') {
    if (!x.password) throw new ConfigError(`${file} [xmpp] password: required for a component (the component secret)`);
    return { kind: 'component', service, services, domain: x.jid, password: x.password, ca };
  }
  const at = x.jid.indexOf('@');
  if (at < 1) throw new ConfigError(`${file} [xmpp] jid: '${x.jid}' must be user@domain for a client`);
  const username = x.jid.slice(0, at);
  const domain = x.jid.slice(at + 1).split('/')[0];
  const given = [x.password && 'password', x.token && 'token', x.jwt_key && 'jwt_key'].filter(Boolean);
  if (given.length !== 1)
    throw new ConfigError(
      `${file} [xmpp]: set exactly one of password, token, jwt_key (found ${given.length ? given.join(', ') : 'none'})`,
    );
  if (x.password)
    return { kind: 'client', service, services, domain, username, password: x.password, ca, resource: x.resource };
  if (x.token)
    return {
      kind: 'client',
      service,
      services,
      domain,
      username,
      password: x.token,
      isToken: true,
      ca,
      resource: x.resource,
    };
  const key = await loadJwtKey(x.jwt_key!);
  const mint = async () => (await mintToken(key, `${username}@${domain}`, x.token_ttl_s)).token;
  return {
    kind: 'client',
    service,
    services,
    domain,
    username,
    password: await mint(),
    refresh: mint,
    isToken: true,
    ca,
    resource: x.resource,
  };
}

function readCa(p: string, file: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${file} [xmpp] ca: cannot read ${p} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { cause: err },
    );
  }
}
