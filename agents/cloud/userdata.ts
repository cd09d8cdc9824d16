/**
 * An instance's user-data: the user's context (amiconfig INI) followed by the [cloudgate]
 * section the instance agent reads to join XMPP (keys as parsed by
 * agents/instance/context/cloudgate.ts). The login token is minted here with this cloud's
 * instance-host key and travels only inside user-data to the cloud; it is never stored,
 * and it lives only minutes (bootstrap_token_ttl).
 */
import { loadJwtKey, mintToken, type JwtKey } from '../../core/index.js';
import type { CloudConfig } from './config.js';
import type { InstanceRow, RequestRow } from './store.js';

/** The user's context must not bring its own [cloudgate]: identity and `allow` are ours to set. */
const OWN_SECTION = /^\[cloudgate\][ \t]*(?:[#;].*)?$/im;

export function contextProblem(context: string): string | undefined {
  if (OWN_SECTION.test(context))
    return 'the context has a [cloudgate] section; the cloud agent writes that section itself';
  return undefined;
}

export function instanceJid(config: CloudConfig, name: string): string {
  return `${name.toLowerCase()}@${config.instances.domain}`;
}

export interface Tokens {
  /** A renewal (RenewToken): [instances] token_ttl. */
  mint(jid: string): Promise<{ token: string; expires: number }>;
  /**
   * The token written into user-data: [instances] bootstrap_token_ttl. User-data stays
   * readable for the instance's whole life (every process in an EC2 guest may ask the
   * metadata service for it; a config drive stays mounted), so the token in it must be
   * dead soon after the first login; the agent renews its own from then on.
   */
  bootstrap(jid: string): Promise<{ token: string; expires: number }>;
}

export async function tokens(config: CloudConfig): Promise<Tokens> {
  const key: JwtKey = await loadJwtKey(config.instances.jwtKey);
  return {
    mint: (jid) => mintToken(key, jid, config.instances.tokenTtlS),
    bootstrap: (jid) => mintToken(key, jid, config.instances.bootstrapTokenTtlS),
  };
}

/** `cloud`: this agent's bare JID, which the instance asks for its next token (RenewToken). */
export interface UserDataDeps {
  config: CloudConfig;
  tokens: Tokens;
  pubsub: string;
  cloud: string;
}

export async function buildUserData(
  { config, tokens: t, pubsub, cloud }: UserDataDeps,
  req: RequestRow,
  inst: InstanceRow,
): Promise<string> {
  const jid = instanceJid(config, inst.name);
  const { token, expires } = await t.bootstrap(jid);
  const i = config.instances;
  const allow = [...new Set([...req.allow, req.requester])];
  const hostPort = (s: { host: string; port: number }) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
  const lines: Array<[string, string | number | undefined]> = [
    ['server', hostPort(i.server)],
    ['servers', i.servers?.length ? i.servers.map(hostPort).join(', ') : undefined],
    ['domain', i.domain],
    ['jid', jid],
    ['token', token],
    ['token_expires', expires],
    ['allow', allow.join(' ')],
    ['context_version', req.context_version > 0 ? req.context_version : undefined],
    ['context_id', req.context_id ?? undefined],
    ['deployment', inst.deployment],
    ['service', inst.service],
    ['instance_id', inst.name],
    ['gateway', req.requester],
    ['cloud', cloud],
    ['heartbeat_interval', i.heartbeatS],
    ['metrics_interval', i.metricsS],
    ['pubsub', i.pubsub ?? pubsub],
  ];
  const out = [req.context.replace(/\s+$/, ''), '', '[cloudgate]'];
  for (const [k, v] of lines) if (v !== undefined && v !== '') out.push(`${k} = ${v}`);
  // PEM on indented continuation lines: the context parser joins them back into one value.
  if (i.ca)
    out.push(
      'ca =',
      ...i.ca
        .trim()
        .split(/\r?\n/)
        .map((l) => `    ${l}`),
    );
  return `${out.join('\n').replace(/^\n+/, '')}\n`;
}
