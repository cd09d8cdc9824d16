/**
 * The gateway's INI configuration (see examples/gateway.ini for every key, documented):
 * the shared [xmpp]/[log] sections, [gateway] (database, admins, trusted cloud agents,
 * timeouts, PubSub), [users] (who may use the gateway) and [group.<name>] sections.
 * Parsed once, validated, frozen.
 */
import { resolve } from 'node:path';
import { conf, ConfigError, xmppSection, logSection, loadConfig, parseConfig, type Config } from '../../core/index.js';

const { section, sections, path, duration, enumOf, field, FieldProblem, str, int, hostPort, normalizeJid } = conf;

/** Bare JIDs, space- or comma-separated, lower-cased. */
const jids = () =>
  field(
    'jids',
    (raw) =>
      Object.freeze(
        raw
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((j) => {
            try {
              return normalizeJid(j, { bare: true });
            } catch (err) {
              throw new FieldProblem((err as Error).message);
            }
          }),
      ),
    { default: [] as readonly string[] },
  );

/**
 * Who may use the gateway: '*' (anyone the server lets talk to us), '@domain' (every JID
 * of that domain), 'group:<name>' (members of a [group.<name>]), or a bare JID.
 */
const patterns = () =>
  field(
    'patterns',
    (raw) =>
      Object.freeze(
        raw
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((p) => {
            if (p === '*' || p.startsWith('group:')) return p;
            if (p.startsWith('@')) {
              if (!/^@[^\s@/]+$/.test(p)) throw new FieldProblem(`'${p}' is not @domain`);
              return p.toLowerCase();
            }
            try {
              return normalizeJid(p, { bare: true });
            } catch (err) {
              throw new FieldProblem((err as Error).message);
            }
          }),
      ),
    { optional: true },
  );

/** Paths, space- or comma-separated, relative to the file. */
const paths = () =>
  field(
    'paths',
    (raw, ctx) =>
      Object.freeze(
        raw
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((p) => resolve(ctx.dir, p)),
      ),
    { default: [] as readonly string[] },
  );

export const gatewaySchema = {
  xmpp: xmppSection,
  log: logSection,
  gateway: section({
    /** SQLite file for users, contexts, clusters, deployments, jobs, events and the outbox. */
    db: path({ default: 'gateway.db' }),
    admins: jids(),
    /** Cloud agents (bare JIDs) the gateway announces itself to and accepts reports from, best first. */
    clouds: jids(),
    /** An instance with no heartbeat (or presence) for this long is lost. */
    heartbeat_timeout: duration({ default: '90s', min: 100 }),
    /** An instance not ready this long after it was requested has failed (and is replaced). */
    ready_timeout: duration({ default: '10m', min: 100 }),
    /** How long to wait for an offline cloud before a placement that needs it fails. */
    placement_timeout: duration({ default: '60s', min: 0 }),
    /** How long a drained instance may stay busy before it is terminated anyway. */
    drain_timeout: duration({ default: '5m', min: 0 }),
    /** After this, an unconfirmed termination is checked against the cloud's own list. */
    terminate_timeout: duration({ default: '60s', min: 100 }),
    /** How often unfinished jobs are re-examined (timeouts, offline peers). */
    tick: duration({ default: '1s', min: 10 }),
    /** How often autoscaling policies decide (each decision reads the latest heartbeats). */
    autoscale_interval: duration({ default: '15s', min: 10 }),
    /** PubSub service for deployment event nodes; default pubsub.<xmpp domain>. */
    pubsub: str({ optional: true }),
    /** whitelist: only the owner and admins may subscribe to a deployment's node; open: anyone. */
    node_access: enumOf(['whitelist', 'open'] as const, { default: 'whitelist' }),
  }),
  users: section({ allow: patterns(), deny: patterns() }, { optional: true }),
  /** Signed image metadata for cluster definitions (images.ts): envelopes its endorsers sign. */
  images: section({ endorsers: paths(), metadata_dir: path() }, { optional: true }),
  'group.*': sections({ members: jids(), description: str({ default: '' }) }),
  /** Pairing of already-running machines (a code, then POST /pair); off without this section. */
  pairing: section(
    {
      http_port: int({ min: 0, max: 65535, default: 8480 }),
      http_host: str({ default: '127.0.0.1' }),
      /** XMPP host of paired machines; the gateway must hold its JWT key. */
      xmpp_domain: str({ pattern: /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/ }),
      jwt_key: path(),
      /** host:port paired machines log in to. */
      server: hostPort({ defaultPort: 5222 }),
      ca: path({ optional: true }),
      token_ttl: duration({ min: 60_000, default: '1h' }),
      ttl: duration({ min: 30_000, default: '10m' }),
      max_ttl: duration({ min: 30_000, default: '1h' }),
    },
    { optional: true },
  ),
  /** The HTTP API (agents/gateway/http.ts); off without this section. Plain HTTP only on loopback. */
  http: section(
    {
      host: str({ default: '127.0.0.1' }),
      port: int({ min: 0, max: 65535, default: 8443 }),
      /** PEM certificate (chain) and key; needed for any address but loopback. */
      cert: path({ optional: true }),
      key: path({ optional: true }),
      access_ttl: duration({ min: 60_000, default: '15m' }),
      refresh_ttl: duration({ min: 60_000, default: '30d' }),
      body_limit: int({ min: 1024, max: 16 * 1024 * 1024, default: 524288 }),
      /** Failed logins allowed per address and per account each minute. */
      login_failures: int({ min: 1, max: 1000, default: 5 }),
    },
    { optional: true },
  ),
};

export type GatewayConfig = Config<typeof gatewaySchema>;

export function loadGatewayConfig(file: string): GatewayConfig {
  return checkPairingHost(loadConfig(file, gatewaySchema), file);
}

export function parseGatewayConfig(text: string, file = 'gateway.ini'): GatewayConfig {
  return checkPairingHost(parseConfig(text, file, gatewaySchema), file);
}

/**
 * The pairing key mints a login for any JID of [pairing] xmpp_domain: that host must hold
 * paired machines only, never the gateway itself, its admins, its cloud agents or its users.
 */
function checkPairingHost(c: GatewayConfig, file: string): GatewayConfig {
  const host = c.pairing?.xmpp_domain;
  if (!host) return c;
  const domainOf = (jid: string) =>
    jid
      .slice(jid.indexOf('@') + 1)
      .split('/')[0]!
      .toLowerCase();
  const users = (c.users?.allow ?? []).filter((a) => a.startsWith('@')).map((a) => a.slice(1));
  const clash = [
    domainOf(c.xmpp.jid),
    ...c.gateway.admins.map(domainOf),
    ...c.gateway.clouds.map(domainOf),
    ...users,
  ].find((d) => d === host);
  if (clash)
    throw new ConfigError(
      `${file} [pairing] xmpp_domain: ${host} is also the gateway's, an admin's, a cloud agent's or its users' host; its key would mint their logins (give paired machines a host of their own)`,
    );
  return c;
}

/** The settings the engine uses, in milliseconds, with defaults for tests that build it directly. */
export interface EngineSettings {
  readonly heartbeatTimeoutMs: number;
  readonly readyTimeoutMs: number;
  readonly placementTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly terminateTimeoutMs: number;
  readonly tickMs: number;
  readonly autoscaleIntervalMs: number;
  readonly nodeAccess: 'whitelist' | 'open';
}

export function engineSettings(g?: GatewayConfig['gateway']): EngineSettings {
  return {
    heartbeatTimeoutMs: g?.heartbeat_timeout ?? 90_000,
    readyTimeoutMs: g?.ready_timeout ?? 600_000,
    placementTimeoutMs: g?.placement_timeout ?? 60_000,
    drainTimeoutMs: g?.drain_timeout ?? 300_000,
    terminateTimeoutMs: g?.terminate_timeout ?? 60_000,
    tickMs: g?.tick ?? 1000,
    autoscaleIntervalMs: g?.autoscale_interval ?? 15_000,
    nodeAccess: g?.node_access ?? 'whitelist',
  };
}
