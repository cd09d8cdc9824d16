/**
 * Settings of the instance agent. A VM image runs it with no file at all (main.ts reads
 * CLOUDGATE_* variables, as the local and libvirt drivers set them); an operator can run
 * `cloudgate agent instance --config instance.ini` instead, to override where things are
 * or to pair an already-running machine (see example.ini next to this file). The XMPP
 * identity never comes from here: it comes from the context's [cloudgate] section.
 */
import type { Logger } from 'pino';
import { conf, loadConfig, createLogger } from '../../core/index.js';
import type { Plugin } from './context/index.js';

export const instanceSchema = {
  instance: conf.section(
    {
      /** Directory every system change goes under; '/' in a VM. */
      root: conf.path({ optional: true }),
      plugin_dirs: conf.list({ default: [] as readonly string[] }),
      context_file: conf.path({ optional: true }),
      config_drive: conf.path({ optional: true }),
      metadata_url: conf.str({ optional: true, pattern: /^https?:\/\// }),
      state_db: conf.path({ optional: true }),
      instance_id: conf.str({ optional: true, nonEmpty: true }),
      pair_code: conf.str({ optional: true, secret: true }),
      gateway_url: conf.str({ optional: true, pattern: /^https?:\/\// }),
      heartbeat_interval: conf.duration({ optional: true, min: 1000 }),
      script_timeout: conf.duration({ optional: true, min: 1000 }),
    },
    { optional: true },
  ),
  log: conf.section(
    {
      level: conf.enumOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info' }),
      file: conf.path({ optional: true }),
    },
    { optional: true },
  ),
};

export interface InstanceAgentOptions {
  /** Default: env CLOUDGATE_ROOT, else '/'. */
  root?: string;
  /** Where CLOUDGATE_* are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  contextFile?: string;
  configDrive?: string;
  metadataUrl?: string;
  /** Budget of the metadata probe (default 2000 ms). */
  metadataTimeoutMs?: number;
  pluginDirs?: readonly string[];
  /** In-process plugins (tests, embedders). */
  plugins?: readonly Plugin[];
  /** SQLite file for the outbox of reports; default <root>/var/lib/cloudgate/agent.db. */
  stateDb?: string;
  /** Default: env CLOUDGATE_INSTANCE_ID, else [cloudgate] instance_id, else the JID's local part. */
  instanceId?: string;
  pairCode?: string;
  gatewayUrl?: string;
  /** Overrides [cloudgate] heartbeat_interval. */
  heartbeatIntervalS?: number;
  scriptTimeoutMs?: number;
  /** Login attempts before giving up; default: keep trying (with jittered backoff). */
  maxStartAttempts?: number;
  log?: Logger;
  /** After a Shutdown request, once the agent has stopped. main.ts exits the process. */
  onShutdown?: (reason: string) => void;
}

/** Options from an INI file (`cloudgate agent instance --config f.ini`). */
export function optionsFromFile(file: string): InstanceAgentOptions {
  const c = loadConfig(file, instanceSchema);
  const i = c.instance;
  const log = createLogger({ level: c.log?.level, destination: c.log?.file });
  return {
    root: i?.root,
    pluginDirs: i?.plugin_dirs,
    contextFile: i?.context_file,
    configDrive: i?.config_drive,
    metadataUrl: i?.metadata_url,
    stateDb: i?.state_db,
    instanceId: i?.instance_id,
    pairCode: i?.pair_code,
    gatewayUrl: i?.gateway_url,
    heartbeatIntervalS: i?.heartbeat_interval === undefined ? undefined : i.heartbeat_interval / 1000,
    scriptTimeoutMs: i?.script_timeout,
    log,
  };
}
