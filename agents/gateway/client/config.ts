/**
 * Where a client's connection settings come from, highest first: command-line flags,
 * environment variables, then a client INI file (the agents' `[xmpp]` section, plus
 * `[gateway] jid`). Secrets come only from the environment or the file, never from
 * flags, which other users of the machine can read in the process list.
 *
 *   ; ~/.config/cloudgate/client.ini
 *   [xmpp]
 *   jid = ada@example.org
 *   server = xmpp.example.org:5222
 *   password = …              ; or token = …, or jwt_key = /path/host.jwk
 *   ca = /etc/cloudgate/ca.pem
 *   [gateway]
 *   jid = gateway@example.org
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { conf, loadConfig, ConfigError } from '../../../core/index.js';
import { readCaFile, type ClientOptions } from './options.js';

const schema = {
  xmpp: conf.section(
    {
      jid: conf.jid({ optional: true }),
      server: conf.str({ optional: true }),
      password: conf.str({ optional: true, secret: true }),
      token: conf.str({ optional: true, secret: true }),
      jwt_key: conf.path({ optional: true }),
      token_ttl_s: conf.int({ min: 60, optional: true }),
      ca: conf.path({ optional: true }),
    },
    { optional: true },
  ),
  gateway: conf.section({ jid: conf.jid({ optional: true }) }, { optional: true }),
};

/** Flags as the CLI parses them (all optional). */
export interface ClientFlags {
  config?: string;
  server?: string;
  jid?: string;
  jwtKey?: string;
  ca?: string;
  gateway?: string;
}

export const CLIENT_ENV = {
  CLOUDGATE_CONFIG: 'client INI file (default ~/.config/cloudgate/client.ini when it exists)',
  CLOUDGATE_SERVER: 'XMPP server host:port',
  CLOUDGATE_JID: 'your JID (user@domain)',
  CLOUDGATE_PASSWORD: 'your XMPP password',
  CLOUDGATE_TOKEN: 'a ready JWT login token',
  CLOUDGATE_JWT_KEY: 'a JWK file to mint your own JWT login',
  CLOUDGATE_CA: 'PEM file of the CA that signed the server certificate',
  CLOUDGATE_GATEWAY: 'the gateway JID (default gateway@<your domain>)',
} as const;

export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'cloudgate', 'client.ini');
}

/** Merges flags, environment and file into ClientOptions; ConfigError names what is missing. */
export function resolveClientOptions(
  flags: ClientFlags = {},
  env: NodeJS.ProcessEnv = process.env,
): ClientOptions & { configFile?: string } {
  const explicit = flags.config ?? env.CLOUDGATE_CONFIG;
  const file = explicit ?? defaultConfigFile(env);
  const cfg = explicit || existsSync(file) ? loadConfig(file, schema) : undefined;
  const x = cfg?.xmpp;
  const server = flags.server ?? env.CLOUDGATE_SERVER ?? x?.server;
  const jid = flags.jid ?? env.CLOUDGATE_JID ?? x?.jid;
  const missing = [
    !jid && 'jid (--jid, CLOUDGATE_JID or [xmpp] jid)',
    !server && 'server (--server, CLOUDGATE_SERVER or [xmpp] server)',
  ].filter(Boolean);
  if (missing.length) throw new ConfigError(`no ${missing.join(' and no ')} given${cfg ? ` (read ${file})` : ''}`);

  // Credentials as one unit from the highest source that has any, so a token in the
  // environment replaces a password in the file instead of conflicting with it.
  const sources: Array<{ password?: string; token?: string; jwtKey?: string }> = [
    { jwtKey: flags.jwtKey },
    { password: env.CLOUDGATE_PASSWORD, token: env.CLOUDGATE_TOKEN, jwtKey: env.CLOUDGATE_JWT_KEY },
    { password: x?.password, token: x?.token, jwtKey: x?.jwt_key },
  ];
  const creds = sources.find((s) => s.password || s.token || s.jwtKey);
  if (!creds)
    throw new ConfigError(
      'no credentials: set CLOUDGATE_PASSWORD, CLOUDGATE_TOKEN or CLOUDGATE_JWT_KEY (or --jwt-key), or password/token/jwt_key in [xmpp] of the client INI file',
    );

  const caFile = flags.ca ?? env.CLOUDGATE_CA ?? x?.ca;
  return {
    server: server!,
    jid: jid!,
    password: creds.password || undefined,
    token: creds.token || undefined,
    jwtKey: creds.jwtKey || undefined,
    tokenTtlS: x?.token_ttl_s,
    ca: caFile ? readCaFile(caFile) : undefined,
    gateway: flags.gateway ?? env.CLOUDGATE_GATEWAY ?? cfg?.gateway?.jid,
    configFile: cfg ? file : undefined,
  };
}
