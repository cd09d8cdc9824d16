/**
 * Renders ejabberd.yml.tpl into a concrete configuration. Pure: no I/O beyond
 * reading the template, so the same options always give the same file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { EjabberdError } from './errors.js';

export interface ComponentSpec {
  /** e.g. gateway.localhost */ domain: string;
  secret: string;
}
export interface HostSpec {
  name: string;
  /** JWK file scoping JWT logins to this host */
  jwtKeyFile?: string;
  /** Passwords only: no JWT login at all, whatever key a client holds. */
  passwordOnly?: boolean;
}

export interface RenderOptions {
  hosts: HostSpec[];
  ip: string;
  c2sPort: number;
  componentPort: number;
  certFile: string;
  jwtKeyFile: string;
  components: ComponentSpec[];
  admins: string[];
  logLevel?: 'critical' | 'error' | 'warning' | 'info' | 'debug';
  backlog?: number;
  maxAckQueue?: number;
  maxStanzaSize?: number;
  maxOffline?: number;
  /**
   * The gateway and cloud agents, as bare JIDs, or host names for every account of a host:
   * they alone create PubSub nodes. With the instance hosts (those with their own JWT key)
   * they are the agents: unshaped, with the deep offline queue.
   */
  agents?: string[];
  /** Offline messages kept for an account that is not an agent (a person). */
  maxOfflinePeople?: number;
  /** People's connections: bytes per second, and the burst allowed above it. */
  peopleRate?: number;
  peopleBurst?: number;
}

/** Figures for people's accounts (README "Security"): agents are neither shaped nor capped this low. */
export const PEOPLE_LIMITS = { maxOffline: 500, rate: 50_000, burst: 1_048_576 } as const;

const here = dirname(fileURLToPath(import.meta.url));

/** The template sits beside the sources; dist/ejabberd/ has no copy, so look in both. */
export function templatePath(): string {
  for (const p of [join(here, 'ejabberd.yml.tpl'), join(here, '..', '..', 'ejabberd', 'ejabberd.yml.tpl')]) {
    try {
      readFileSync(p);
      return p;
    } catch {
      /* next */
    }
  }
  throw new Error(`ejabberd.yml.tpl not found beside ${here}`);
}

const q = (s: string) => JSON.stringify(s);

export function renderConfig(o: RenderOptions): string {
  if (o.hosts.length === 0) throw new Error('at least one XMPP host is required');
  const values: Record<string, string> = {
    HOSTS: o.hosts.map((h) => `  - ${q(h.name)}`).join('\n'),
    LOGLEVEL: o.logLevel ?? 'info',
    CERTFILE: o.certFile,
    JWT_KEY: o.jwtKeyFile,
    C2S_PORT: String(o.c2sPort),
    COMPONENT_PORT: String(o.componentPort),
    IP: o.ip,
    BACKLOG: String(o.backlog ?? 4096),
    MAX_ACK_QUEUE: String(o.maxAckQueue ?? 10000),
    MAX_STANZA: String(o.maxStanzaSize ?? 1048576),
    MAX_OFFLINE: String(o.maxOffline ?? 100000),
    MAX_OFFLINE_PEOPLE: String(o.maxOfflinePeople ?? PEOPLE_LIMITS.maxOffline),
    PEOPLE_RATE: String(o.peopleRate ?? PEOPLE_LIMITS.rate),
    PEOPLE_BURST: String(o.peopleBurst ?? PEOPLE_LIMITS.burst),
    NODE_CREATORS: renderAcl(agentSpecs(o.agents ?? [], o.hosts)),
    AGENTS: renderAcl([
      ...agentSpecs(o.agents ?? [], o.hosts),
      ...o.hosts.filter((h) => h.jwtKeyFile).map((h) => h.name),
    ]),
    COMPONENTS: o.components.length
      ? o.components.map((c) => `      ${q(c.domain)}:\n        password: ${q(c.secret)}`).join('\n')
      : '      {}',
    ADMINS: o.admins.length ? o.admins.map((a) => `      - ${q(a)}`).join('\n') : '      []',
    HOST_CONFIG: renderHostConfig(o.hosts),
  };
  const tpl = readFileSync(templatePath(), 'utf8');
  return tpl.replace(/\{\{([A-Z_0-9]+)\}\}/g, (_, k: string) => {
    const v = values[k];
    if (v === undefined) throw new Error(`ejabberd template: unknown placeholder {{${k}}}`);
    return v;
  });
}

/** Checks each agent entry (a bare JID or a host name) names a host this server serves. */
function agentSpecs(agents: string[], hosts: HostSpec[]): string[] {
  const served = new Set(hosts.map((h) => h.name));
  for (const a of agents) {
    const m = /^(?:([^@\s"/]+)@)?([^@\s"/]+)$/.exec(a);
    if (!m) throw new EjabberdError(`ejabberd agents: '${a}' is neither a bare JID (user@host) nor a host name`);
    if (!served.has(m[2]))
      throw new EjabberdError(
        `ejabberd agents: '${a}' names host '${m[2]}', which this server does not serve (${[...served].join(', ')})`,
      );
  }
  return agents;
}

/** An ejabberd ACL body: `user` for bare JIDs, `server` for whole hosts. */
function renderAcl(specs: string[]): string {
  const users = [...new Set(specs.filter((s) => s.includes('@')))];
  const servers = [...new Set(specs.filter((s) => !s.includes('@')))];
  const list = (xs: string[]) => (xs.length ? xs.map((x) => `\n      - ${q(x)}`).join('') : ' []');
  return `    user:${list(users)}\n    server:${list(servers)}`;
}

/** Per-host authentication: a host's own JWT key, or the internal store alone. */
function renderHostConfig(hosts: HostSpec[]): string {
  if (hosts.some((h) => h.jwtKeyFile && h.passwordOnly))
    throw new Error('a host cannot have a JWT key and take passwords only');
  const scoped = hosts.filter((h) => h.jwtKeyFile || h.passwordOnly);
  if (scoped.length === 0) return '';
  return (
    'host_config:\n' +
    scoped
      .map((h) => `  ${q(h.name)}:\n    ${h.passwordOnly ? 'auth_method: [mnesia]' : `jwt_key: ${q(h.jwtKeyFile!)}`}`)
      .join('\n') +
    '\n'
  );
}
