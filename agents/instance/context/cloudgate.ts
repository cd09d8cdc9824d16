/**
 * The [cloudgate] section: what the instance agent needs to join XMPP and whom to obey.
 * It is not a plugin; the agent reads it before (and regardless of) applying plugins.
 *
 *   [cloudgate]
 *   server = xmpp.example.org:5222      host[:port] or [v6addr]:port; port defaults to 5222
 *   servers = n1.example.org:5222, n2.example.org:5222   a cluster's nodes, tried in turn (instead of server)
 *   domain = i.cloud-a.example.org      XMPP host of this instance (defaults to jid's domain)
 *   jid = vm-42@i.cloud-a.example.org   this instance's identity (required)
 *   token = eyJ...                      login token (JWT), a secret: never logged
 *   token_expires = 1767225600          unix seconds
 *   ca =                                PEM text on continuation lines
 *       -----BEGIN CERTIFICATE-----
 *       ...
 *   allow = alice@example.org gateway@example.org   bare JIDs that may command this agent
 *   context_version = 3                 positive integer
 *   context_id = ctx-analysis
 *   deployment = dep-17
 *   service = worker
 *   instance_id = i-0abc
 *   gateway = gateway@example.org       bare JID of the gateway agent
 *   cloud = cloud-a@example.org         bare JID of the cloud agent that renews this instance's token
 *   heartbeat_interval = 30             seconds
 *   metrics_interval = 60               seconds
 *   pubsub = pubsub.example.org         pubsub service JID
 *
 * Unknown keys are errors (a typo in `allow` must not pass silently), except keys starting
 * with `x_` or `x-`, reserved for experiments. JIDs are lower-cased so the agent can compare
 * them with stanza senders directly (XMPP localparts and domains are case-insensitive).
 */
import { ContextError } from './errors.js';
import { textValue, type Section, type SectionPosition } from './section.js';

export interface CloudgateSection {
  readonly server?: { readonly host: string; readonly port: number };
  /** The nodes of an ejabberd cluster, in the order to try them (replaces `server`). */
  readonly servers?: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  readonly domain: string;
  readonly jid: string;
  readonly token?: string;
  readonly tokenExpires?: number;
  readonly ca?: string;
  readonly allow: readonly string[];
  readonly contextVersion?: number;
  readonly contextId?: string;
  readonly deployment?: string;
  readonly service?: string;
  readonly instanceId?: string;
  readonly gateway?: string;
  /** The cloud agent that minted the token and renews it (RenewToken). */
  readonly cloud?: string;
  readonly heartbeatInterval?: number;
  readonly metricsInterval?: number;
  readonly pubsub?: string;
}

export const CLOUDGATE_KEYS: readonly string[] = [
  'server',
  'servers',
  'domain',
  'jid',
  'token',
  'token_expires',
  'ca',
  'allow',
  'context_version',
  'context_id',
  'deployment',
  'service',
  'instance_id',
  'gateway',
  'cloud',
  'heartbeat_interval',
  'metrics_interval',
  'pubsub',
];

const DOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const LOCAL = /^[^\s@/"&'<>:]{1,1023}$/;

export function parseCloudgate(section: Section, pos: SectionPosition): CloudgateSection {
  const fail = (key: string, reason: string): never => {
    throw new ContextError('CG_CONTEXT_INVALID', reason, {
      line: pos.keys.get(key) ?? pos.line,
      section: 'cloudgate',
      key,
    });
  };
  for (const key of section.keys()) {
    if (!CLOUDGATE_KEYS.includes(key) && !/^x[_-]/.test(key))
      fail(key, `unknown key (known: ${CLOUDGATE_KEYS.join(', ')})`);
  }
  const str = (key: string): string | undefined => {
    const raw = section.get(key);
    if (raw === undefined) return undefined;
    const v = textValue(raw);
    if (v === '') fail(key, 'empty value');
    if (key !== 'ca' && v.includes('\n')) fail(key, 'value must be on one line');
    return v;
  };
  const num = (key: string, integer: boolean): number | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      fail(key, `expected ${integer ? 'a non-negative integer' : 'a number'}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
  const positive = (key: string, integer: boolean): number | undefined => {
    const n = num(key, integer);
    if (n !== undefined && n <= 0) fail(key, 'must be greater than 0');
    return n;
  };
  const jidOf = (key: string, v: string, kind: 'full' | 'bare' | 'service'): string => {
    const j = normalizeJid(v, kind);
    if (j === undefined) fail(key, `not a ${kind === 'service' ? 'service' : kind} JID: ${JSON.stringify(v)}`);
    return j as string;
  };

  const jidText = str('jid');
  if (jidText === undefined) return fail('jid', 'required when [cloudgate] is present');
  const jid = jidOf('jid', jidText as string, 'full');
  const jidDomain = jid.split('@')[1].split('/')[0];
  const domainText = str('domain');
  const domain = domainText === undefined ? jidDomain : domainText.toLowerCase();
  if (!DOMAIN.test(domain)) fail('domain', `not a domain name: ${JSON.stringify(domainText)}`);

  const serverText = str('server');
  const server =
    serverText === undefined
      ? undefined
      : (parseServer(serverText) ?? fail('server', `expected host:port, got ${JSON.stringify(serverText)}`));

  const serversText = str('servers');
  const servers =
    serversText === undefined
      ? undefined
      : serversText
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(
            (t, i) => parseServer(t) ?? fail('servers', `entry ${i + 1}: expected host:port, got ${JSON.stringify(t)}`),
          );
  if (servers?.length === 0) fail('servers', 'expected host:port, host:port, ...');

  const ca = str('ca');
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----'))
    fail('ca', 'expected PEM text (-----BEGIN CERTIFICATE-----) on continuation lines');

  const allowText = str('allow');
  const allow =
    allowText === undefined
      ? []
      : allowText
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((j) => jidOf('allow', j, 'bare'));

  const gw = str('gateway');
  const cloud = str('cloud');
  const ps = str('pubsub');
  return Object.freeze({
    server: server ? Object.freeze(server) : undefined,
    servers: servers ? Object.freeze(servers.map((s) => Object.freeze(s))) : undefined,
    domain,
    jid,
    token: str('token'),
    tokenExpires: num('token_expires', true),
    ca: ca === undefined ? undefined : ca.endsWith('\n') ? ca : `${ca}\n`,
    allow: Object.freeze(allow),
    contextVersion: positive('context_version', true),
    contextId: str('context_id'),
    deployment: str('deployment'),
    service: str('service'),
    instanceId: str('instance_id'),
    gateway: gw === undefined ? undefined : jidOf('gateway', gw, 'bare'),
    cloud: cloud === undefined ? undefined : jidOf('cloud', cloud, 'bare'),
    heartbeatInterval: positive('heartbeat_interval', false),
    metricsInterval: positive('metrics_interval', false),
    pubsub: ps === undefined ? undefined : jidOf('pubsub', ps, 'service'),
  });
}

/** `host`, `host:port` or `[v6]:port`; undefined when malformed. */
export function parseServer(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) return undefined;
  const port = m[3] === undefined ? 5222 : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2]).toLowerCase(), port };
}

/**
 * Light JID check (RFC 7622 shape, not full PRECIS): `local@domain[/resource]`.
 * 'bare' forbids a resource; 'service' is a bare domain such as pubsub.example.org.
 */
export function normalizeJid(text: string, kind: 'full' | 'bare' | 'service'): string | undefined {
  if (kind === 'service') {
    const d = text.toLowerCase();
    return DOMAIN.test(d) ? d : undefined;
  }
  const slash = text.indexOf('/');
  const bare = slash < 0 ? text : text.slice(0, slash);
  const resource = slash < 0 ? undefined : text.slice(slash + 1);
  if (resource !== undefined && (kind === 'bare' || resource === '' || /\s/.test(resource))) return undefined;
  const at = bare.indexOf('@');
  if (at <= 0) return undefined;
  const local = bare.slice(0, at).toLowerCase();
  const domain = bare.slice(at + 1).toLowerCase();
  if (!LOCAL.test(local) || !DOMAIN.test(domain)) return undefined;
  return resource === undefined ? `${local}@${domain}` : `${local}@${domain}/${resource}`;
}
