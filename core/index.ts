// The public face of core/: the agent runtime. Other folders import from here only.
export { Agent, type AgentOptions, type AgentModule, type AgentEvent, type XmppOptions } from './agent.js';
export { Connection, ConnectionError, type ConnectionOptions, type ConnectionEvent } from './connection.js';
export { StoppedError, type RequestContext, type Handler } from './rpc.js';
export type { MessageContext, MessageHandler } from './reliable.js';
export type { Peer, PeerEvent } from './presence.js';
export type { NodeConfig, EventMeta } from './pubsub.js';
export {
  ChatRouter,
  ChatError,
  splitLine,
  parseArgs,
  type ChatCommand,
  type ChatContext,
  type ChatArgs,
} from './chat.js';
export { HookChain, type Hook } from './hooks.js';
export { CloudgateError, ConfigError } from './errors.js';
export {
  createLogger,
  redactPaths,
  scrubber,
  withSecretsScrubbed,
  REDACT_KEYS,
  type Logger,
  type LogOptions,
} from './log.js';
export { openStore, createSeenIds, type Db, type Migration, type SeenIds, type StoreOptions } from './store.js';
export { loadJwtKey, mintToken, type JwtKey } from './jwt.js';
export { backoffDelay, sleep } from './backoff.js';
export { bareJid, uniqueId, idGenerator } from './ids.js';
// Configuration schema builders live in a namespace: their names (str, int…) are
// also the wire-schema builders of protocols/.
export * as conf from './config.js';
export {
  loadConfig,
  parseConfig,
  redacted,
  ConfigInvalidError,
  type Config,
  type Schema,
  type ConfigIssue,
} from './config.js';
export { xmppSection, logSection, xmppOptions } from './agent-config.js';
export { stopOnSignals, type RunningAgent, type RunAgent } from './run.js';
export { iniAccount, writeIniPassword } from './ini-password.js';
