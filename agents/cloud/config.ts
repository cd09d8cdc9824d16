/**
 * The cloud agent's INI file, parsed once at start-up (see examples/cloud-local.ini for
 * every key with a comment). The parsed file is kept whole for [xmpp]/[log]; everything
 * the capabilities use is converted here into a frozen CloudConfig with defaults applied
 * and names normalized, so no module re-reads strings.
 */
import { readFileSync } from 'node:fs';
import { conf, ConfigError, loadConfig, parseConfig, xmppSection, logSection, type Config } from '../../core/index.js';
import { driverDescriptor, driverNames, driverSecretKeys, type DriverName } from '../../drivers/index.js';

const limits = {
  instances: conf.int({ min: 0, optional: true }),
  cores: conf.int({ min: 0, optional: true }),
  memory_mb: conf.int({ min: 0, optional: true }),
};

/**
 * The schema of a cloud agent's file whose [cloud] names `driver`: its [driver] section may
 * hold only that driver's keys (any key while the driver is unknown, which [cloud] reports).
 */
export function cloudSchemaFor(driver: string | undefined) {
  const d = driver === undefined ? undefined : driverDescriptor(driver);
  return {
    ...cloudSchema,
    driver: conf.record({
      secret: d?.options.secrets ?? driverSecretKeys(),
      keys: d && { names: d.options.keys, prefixes: d.options.prefixes },
    }),
  };
}

export const cloudSchema = {
  xmpp: xmppSection,
  log: logSection,
  cloud: conf.section({
    name: conf.str({ pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/ }),
    driver: conf.enumOf(driverNames()),
    poll_interval: conf.duration({ min: 50, default: '10s' }),
    create_concurrency: conf.int({ min: 1, max: 64, default: 4 }),
    db: conf.path(),
    requesters: conf.list({ minItems: 1 }),
    admins: conf.list({ default: '' }),
  }),
  driver: conf.record({ secret: driverSecretKeys() }),
  'flavor.*': conf.sections({
    id: conf.str({ nonEmpty: true }),
    cores: conf.int({ min: 1, optional: true }),
    memory_mb: conf.int({ min: 1, optional: true }),
  }),
  'image.*': conf.sections({ id: conf.str({ nonEmpty: true }) }),
  acl: conf.section({ users: conf.list({ default: '' }), groups: conf.list({ default: '' }) }, { optional: true }),
  quota: conf.section({ ...limits, instances: conf.int({ min: 0, default: 20 }) }, { optional: true }),
  'quota.user.*': conf.sections(limits),
  'quota.group.*': conf.sections(limits),
  // Image trust (image-trust.ts): without [trust] images are not checked.
  trust: conf.section(
    {
      endorsers: conf.list({ default: '' }),
      refuse_endorsers: conf.list({ default: '' }),
      refuse_checksums: conf.list({ default: '' }),
      refuse_images: conf.list({ default: '' }),
      allow_unsigned: conf.bool({ default: false }),
    },
    { optional: true },
  ),
  images: conf.section({ metadata_dir: conf.path() }, { optional: true }),
  instances: conf.section({
    xmpp_domain: conf.str({ pattern: /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/ }),
    jwt_key: conf.path(),
    server: conf.hostPort({ defaultPort: 5222 }),
    /** The nodes of an ejabberd cluster, which the instances try in turn (instead of server). */
    servers: conf.hostPortList({ optional: true, defaultPort: 5222 }),
    ca: conf.path({ optional: true }),
    pubsub: conf.str({ optional: true }),
    token_ttl: conf.duration({ min: 60_000, default: '1h' }),
    bootstrap_token_ttl: conf.duration({ min: 10_000, default: '10m' }),
    heartbeat_interval: conf.duration({ min: 1000, default: '30s' }),
    metrics_interval: conf.duration({ min: 1000, default: '60s' }),
  }),
};

export type CloudFile = Config<typeof cloudSchema>;

/** Limits; absent = unlimited. */
export interface Limits {
  readonly instances?: number;
  readonly cores?: number;
  readonly memoryMb?: number;
}

export interface CloudConfig {
  readonly file: string;
  /** The whole parsed file ([xmpp] and [log] are read by core/agent-config.ts). */
  readonly raw: CloudFile;
  readonly name: string;
  readonly driver: DriverName;
  readonly driverOptions: Readonly<Record<string, string>>;
  readonly pollMs: number;
  /** How many create() calls may be under way at once. */
  readonly createConcurrency: number;
  readonly db: string;
  /** Bare JIDs trusted to send requests on behalf of users (gateways). */
  readonly requesters: ReadonlySet<string>;
  readonly admins: ReadonlySet<string>;
  /** generic name → driver flavor id (+ optional size override); empty = the driver's own names. */
  readonly flavors: ReadonlyMap<string, { id: string; cores?: number; memoryMb?: number }>;
  readonly images: ReadonlyMap<string, string>;
  readonly acl: { readonly users: ReadonlySet<string>; readonly groups: ReadonlySet<string> };
  readonly quota: {
    readonly total: Limits;
    readonly users: ReadonlyMap<string, Limits>;
    readonly groups: ReadonlyMap<string, Limits>;
  };
  readonly instances: {
    readonly domain: string;
    readonly jwtKey: string;
    readonly server: { host: string; port: number };
    /** A cluster's nodes, in the order the instances try them. */
    readonly servers?: ReadonlyArray<{ host: string; port: number }>;
    readonly ca?: string;
    readonly pubsub?: string;
    /** Life of a renewed login token, and of the one in user-data (only minutes: see userdata.ts). */
    readonly tokenTtlS: number;
    readonly bootstrapTokenTtlS: number;
    readonly heartbeatS: number;
    readonly metricsS: number;
  };
  /** Credential values from this file: never in a stanza, log line, error or the database. */
  readonly secrets: readonly string[];
}

export function loadCloudConfig(file: string): CloudConfig {
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* loadConfig reports it */
  }
  return toCloudConfig(loadConfig(file, cloudSchemaFor(text === undefined ? undefined : driverIn(text))), file);
}

export function parseCloudConfig(text: string, file: string): CloudConfig {
  return toCloudConfig(parseConfig(text, file, cloudSchemaFor(driverIn(text))), file);
}

/** The driver [cloud] names, read ahead so that [driver] is checked against it. */
function driverIn(text: string): string | undefined {
  const cloud = conf.readIni(text).doc.sections.find((s) => s.name === 'cloud');
  return cloud?.entries.find((e) => e.key === 'driver')?.value;
}

const limitsOf = (s: { instances?: number; cores?: number; memory_mb?: number } | undefined): Limits =>
  Object.freeze({ instances: s?.instances, cores: s?.cores, memoryMb: s?.memory_mb });

function toCloudConfig(raw: CloudFile, file: string): CloudConfig {
  const bare = (j: string, where: string) => {
    try {
      return conf.normalizeJid(j, { bare: true });
    } catch (err) {
      throw new ConfigError(`${file} ${where}: ${(err as Error).message}`);
    }
  };
  const admins = new Set(raw.cloud.admins.map((j) => bare(j, '[cloud] admins')));
  const aclUsers = (raw.acl?.users ?? []).map((j) => (j === '*' ? j : bare(j, '[acl] users')));
  localAclProblem(raw, admins, aclUsers, file);
  const users = new Map<string, Limits>();
  for (const [k, v] of Object.entries(raw['quota.user.*']))
    users.set(k === 'default' ? k : bare(k, `[quota.user.${k}]`), limitsOf(v));
  const inst = raw.instances;
  checkInstanceHost(raw, file);
  const ca = inst.ca === undefined ? undefined : readCa(inst.ca, file);
  const secrets = [
    raw.xmpp.password,
    raw.xmpp.token,
    ...(driverDescriptor(raw.cloud.driver)?.options.secrets ?? []).map((k) => raw.driver[k]),
  ].filter((s): s is string => typeof s === 'string' && s.length >= 4);
  return Object.freeze({
    file,
    raw,
    name: raw.cloud.name,
    driver: raw.cloud.driver,
    driverOptions: raw.driver,
    pollMs: raw.cloud.poll_interval,
    createConcurrency: raw.cloud.create_concurrency,
    db: raw.cloud.db,
    requesters: new Set(raw.cloud.requesters.map((j) => bare(j, '[cloud] requesters'))),
    admins,
    flavors: new Map(
      Object.entries(raw['flavor.*']).map(([k, v]) => [k, { id: v.id, cores: v.cores, memoryMb: v.memory_mb }]),
    ),
    images: new Map(Object.entries(raw['image.*']).map(([k, v]) => [k, v.id])),
    acl: {
      users: new Set(aclUsers),
      groups: new Set(raw.acl?.groups ?? []),
    },
    quota: {
      total: limitsOf(raw.quota ?? { instances: 20 }),
      users,
      groups: new Map(Object.entries(raw['quota.group.*']).map(([k, v]) => [k, limitsOf(v)])),
    },
    instances: {
      domain: inst.xmpp_domain,
      jwtKey: inst.jwt_key,
      server: inst.server,
      servers: inst.servers,
      ca,
      pubsub: inst.pubsub,
      tokenTtlS: Math.round(inst.token_ttl / 1000),
      bootstrapTokenTtlS: Math.round(inst.bootstrap_token_ttl / 1000),
      heartbeatS: inst.heartbeat_interval / 1000,
      metricsS: inst.metrics_interval / 1000,
    },
    secrets: Object.freeze(secrets),
  });
}

/**
 * The local driver runs instances as this agent's OS user unless `[driver] shared` is on,
 * and a context's scripts could then read this file and its keys: without it, only the
 * cloud's admins (the one trusted owner) may have instances here.
 */
function localAclProblem(raw: CloudFile, admins: ReadonlySet<string>, users: readonly string[], file: string): void {
  if (raw.cloud.driver !== 'local' || /^(1|true|yes|on)$/i.test(String(raw.driver.shared ?? '').trim())) return;
  const why =
    "with the local driver every instance runs as this agent's OS user, so its context's scripts could read this file and its keys; " +
    'allow only [cloud] admins, or set [driver] shared = true to run instances as an unprivileged user';
  const open = users.find((u) => u === '*' || !admins.has(u));
  if (open) throw new ConfigError(`${file} [acl] users: "${open}" is not one of the [cloud] admins: ${why}`);
  const group = raw.acl?.groups?.[0];
  if (group !== undefined)
    throw new ConfigError(`${file} [acl] groups: "${group}" admits users who are not [cloud] admins: ${why}`);
}

/**
 * The instance host's key mints a login for any JID of that host, and the agent trusts
 * every JID there as one of its instances: the host must be its instances' alone, never
 * the agent's own, a requester's or an admin's.
 */
function checkInstanceHost(raw: CloudFile, file: string): void {
  const host = raw.instances.xmpp_domain;
  const domainOf = (jid: string) =>
    jid
      .slice(jid.indexOf('@') + 1)
      .split('/')[0]!
      .toLowerCase();
  if ([raw.xmpp.jid, ...raw.cloud.requesters, ...raw.cloud.admins].some((j) => domainOf(j) === host)) {
    throw new ConfigError(
      `${file} [instances] xmpp_domain: ${host} is also this agent's, a requester's or an admin's host; its key would mint their logins (give the instances a host of their own)`,
    );
  }
  if (raw.xmpp.jwt_key && raw.xmpp.jwt_key === raw.instances.jwt_key) {
    throw new ConfigError(
      `${file} [instances] jwt_key: the same key as [xmpp] jwt_key; the instances' key must serve their host alone`,
    );
  }
}

function readCa(p: string, file: string): string {
  let pem: string;
  try {
    pem = readFileSync(p, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${file} [instances] ca: cannot read ${p} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError(`${file} [instances] ca: ${p} holds no PEM certificate`);
  return pem;
}
