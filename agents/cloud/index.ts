/**
 * The cloud agent: one per cloud credential, the only process that holds it. It turns
 * generic requests from trusted requesters (gateways) into calls on its cloud through a
 * driver, enforces ACL and soft quota first, watches its instances and reports every
 * state change. This file is the one place its capabilities are wired.
 *
 *   cloudgate agent cloud --config cloud.ini        (see examples/cloud-local.ini)
 */
import { chmodSync } from 'node:fs';
import {
  Agent,
  createLogger,
  openStore,
  withSecretsScrubbed,
  type Db,
  type Logger,
  type XmppOptions,
} from '../../core/index.js';
import { xmppOptions, type RunningAgent } from '../../core/index.js';
import { cloud } from '../../protocols/index.js';
import { driverSecretKeys, openDriver, type CloudDriver } from '../../drivers/index.js';
import { loadCloudConfig, type CloudConfig } from './config.js';
import { cloudStore, MIGRATIONS, type CloudStore } from './store.js';
import { buildCatalog, type Catalog } from './catalog.js';
import { loadImageTrust, withImageTrust } from './image-trust.js';
import { policy as makePolicy } from './policy.js';
import { admissionGate } from './decision.js';
import { scrubber, type Scrub } from './errors.js';
import { tokens as makeTokens, type Tokens } from './userdata.js';
import { reporter, nodeOf } from './states.js';
import { provisioner as makeProvisioner } from './provisioner.js';
import { admission } from './admission.js';
import { terminator as makeTerminator } from './terminate.js';
import { watcher } from './watch.js';
import { cloudPresence } from './presence.js';
import { queries } from './queries.js';
import { cloudChat } from './chat.js';

export {
  loadCloudConfig,
  parseCloudConfig,
  cloudSchema,
  cloudSchemaFor,
  type CloudConfig,
  type Limits,
} from './config.js';
export { buildUserData, instanceJid } from './userdata.js';
export { nodeOf } from './states.js';
export { loadImageTrust, type ImageTrust } from './image-trust.js';
export type { InstanceRow, RequestRow, StoredState } from './store.js';

export interface CloudAgentDeps {
  log?: Logger;
  /** Default: openDriver([cloud] driver, [driver]). */
  driver?: CloudDriver;
  /** Wraps the driver (tests: count or hold calls). */
  wrapDriver?: (d: CloudDriver) => CloudDriver;
  /** Default: from [xmpp]. */
  xmpp?: XmppOptions;
}

export interface CloudAgent {
  readonly agent: Agent;
  readonly config: CloudConfig;
  readonly driver: CloudDriver;
  readonly store: CloudStore;
  start(): Promise<void>;
  /** Stops the agent, closes the driver (instances keep running) and the database. */
  stop(): Promise<void>;
  /** One watch poll now. */
  pollNow(): Promise<void>;
}

export async function createCloudAgent(config: CloudConfig, deps: CloudAgentDeps = {}): Promise<CloudAgent> {
  // The one place secrets are kept out of the logs: every driver's secret option names
  // are redacted wherever they appear, and this file's credential values in any string.
  const log = withSecretsScrubbed(
    deps.log ??
      createLogger({ level: config.raw.log?.level, destination: config.raw.log?.file, secretKeys: driverSecretKeys() }),
    config.secrets,
  );
  // Keys first: a missing key file fails before anything is opened or created on disk.
  const tokens = await makeTokens(config);
  const given = deps.xmpp ?? (await xmppOptions(config.raw.xmpp, config.file));
  // A fixed resource gives requesters one address for this agent (protocols/cloud.ts).
  const xmpp = given.kind === 'component' || given.resource ? given : { ...given, resource: cloud.CLOUD_RESOURCE };
  const db = openStore(config.db, MIGRATIONS, { log });
  // It holds users' contexts: ours alone (SQLite gives its -wal and -shm the same mode).
  if (config.db !== ':memory:' && config.db !== '') chmodSync(config.db, 0o600);
  const store = cloudStore(db);
  const scrub = scrubber(config.secrets);
  let driver: CloudDriver | undefined;
  let catalog: Catalog;
  try {
    // What instances running on this host must not read (a shared local driver checks).
    const protectedFiles = [config.file, config.instances.jwtKey, config.raw.xmpp.jwt_key, config.db].filter(
      (f): f is string => !!f,
    );
    driver =
      deps.driver ??
      (await openDriver(config.driver, config.driverOptions, { log: log.child({ module: 'driver' }), protectedFiles }));
    if (deps.wrapDriver) driver = deps.wrapDriver(driver);
    catalog = withImageTrust(
      await buildCatalog(config, driver),
      loadImageTrust(config, log.child({ module: 'image-trust', cloud: config.name })),
    );
  } catch (err) {
    await driver?.close().catch(() => {});
    db.close();
    throw err;
  }
  return wire(config, log, db, store, scrub, driver, catalog, tokens, xmpp);
}

function wire(
  config: CloudConfig,
  log: Logger,
  db: Db,
  store: CloudStore,
  scrub: Scrub,
  driver: CloudDriver,
  catalog: Catalog,
  tokens: Tokens,
  xmpp: XmppOptions,
): CloudAgent {
  const trusted = (bare: string) =>
    config.requesters.has(bare) || config.admins.has(bare) || bare.endsWith(`@${config.instances.domain}`);
  const agent = new Agent({ kind: 'cloud', xmpp, log, db, trusted });
  const mlog = (module: string) => agent.log.child({ module, cloud: config.name });

  const policy = makePolicy({ config, store });
  const gate = admissionGate({ config, store, policy, driver, log: mlog('admission') });
  const presence = cloudPresence({ agent, config, catalog, policy, gate, log: mlog('presence') });
  const states = reporter({ agent, store, config, log: mlog('states'), scrub, onChange: () => presence.changed() });
  const provisioner = makeProvisioner({
    agent,
    store,
    config,
    driver,
    catalog,
    states,
    tokens,
    log: mlog('provisioner'),
    scrub,
  });
  const terminator = makeTerminator({ config, store, driver, states, provisioner, log: mlog('terminate') });
  const watch = watcher({ config, store, driver, states, terminator, log: mlog('watch') });

  agent.onMessage(
    cloud.Allocate,
    admission({ config, store, catalog, gate, provisioner, log: mlog('allocate'), onChange: () => presence.changed() }),
  );
  agent.onMessage(cloud.Terminate, (msg, ctx) => terminator.onTerminate(msg, ctx));
  queries({ agent, config, store, catalog, policy, gate, driver, states, tokens });
  cloudChat({ agent, config, store, status: () => presence.compute() });
  agent.use({
    name: 'cloud',
    async start() {
      await states.start();
      await presence.start();
      // Resume: create what was recorded but not created before a stop, send unsent results.
      void provisioner.kick();
      watch.start();
      agent.log.info({ cloud: config.name, driver: config.driver, node: nodeOf(config) }, 'cloud agent ready');
    },
    async stop() {
      provisioner.stop();
      presence.stop();
      await watch.stop();
    },
  });

  let stopped = false;
  return {
    agent,
    config,
    driver,
    store,
    start: () => agent.start(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await agent.stop();
      await driver.close().catch((err) => log.warn({ error: String((err as Error)?.message) }, 'driver close failed'));
      db.close();
    },
    pollNow: () => watch.pollNow(),
  };
}

/** `cloudgate agent cloud --config f.ini` (agents/runtime.ts). */
export async function run(configFile: string): Promise<RunningAgent> {
  const config = loadCloudConfig(configFile);
  const ca = await createCloudAgent(config);
  try {
    await ca.start();
  } catch (err) {
    await ca.stop().catch(() => {});
    throw err;
  }
  return { agent: ca.agent, stop: () => ca.stop() };
}
