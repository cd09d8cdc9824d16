/**
 * The gateway's client library: a typed session with the gateway (GatewayClient), how
 * clients are configured (flags, env, client INI), and what errors mean as exit codes.
 */
export { GatewayClient } from './client/client.js';
export { type ClientOptions, parseServer } from './client/options.js';
export type { Following, EventListener } from './client/follow.js';
export { type WaitOptions, matches } from './client/wait.js';
export {
  isReady,
  isTerminal,
  isGone,
  TERMINAL_STATES,
  type DeploymentView,
  type ServiceView,
  type InstanceView,
  type DeploymentState,
  type DeploymentEventView,
  type ContextView,
  type ClusterView,
  type CloudView,
  type WhoAmIView,
  type PairingCodeView,
  type AutoscalePolicyView,
  type WaitTarget,
  type MarketEntryView,
  type MarketPageView,
  type CloneEntryView,
  type EntryDeploymentView,
  type EntryPairingView,
  type PublishedImageView,
  type ImageView,
} from './client/types.js';
export {
  GatewayUnreachableError,
  UsageError,
  OperationFailedError,
  EXIT,
  EXIT_CODES_HELP,
  exitCodeFor,
  describeError,
  errorJson,
} from './client/errors.js';
export { resolveClientOptions, defaultConfigFile, CLIENT_ENV, type ClientFlags } from './client/config.js';
