/**
 * Renders ejabberd.yml.tpl into a concrete configuration. Pure: no I/O beyond
 * reading the template, so the same options always give the same file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface ComponentSpec { /** e.g. gateway.localhost */ domain: string; secret: string }
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
}

const here = dirname(fileURLToPath(import.meta.url));

/** The template sits beside the sources; dist/ejabberd/ has no copy, so look in both. */
export function templatePath(): string {
  for (const p of [join(here, 'ejabberd.yml.tpl'), join(here, '..', '..', 'ejabberd', 'ejabberd.yml.tpl')]) {
    try { readFileSync(p); return p; } catch { /* next */ }
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

/** Per-host authentication: a host's own JWT key, or the internal store alone. */
function renderHostConfig(hosts: HostSpec[]): string {
  if (hosts.some((h) => h.jwtKeyFile && h.passwordOnly)) throw new Error('a host cannot have a JWT key and take passwords only');
  const scoped = hosts.filter((h) => h.jwtKeyFile || h.passwordOnly);
  if (scoped.length === 0) return '';
  return 'host_config:\n' + scoped.map((h) => `  ${q(h.name)}:\n    ${h.passwordOnly ? 'auth_method: [mnesia]' : `jwt_key: ${q(h.jwtKeyFile!)}`}`).join('\n') + '\n';
}
