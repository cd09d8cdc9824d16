/**
 * Contextualization for the instance agent: find the context, parse it, apply it (and
 * re-apply newer versions), report per-plugin results. No XMPP here.
 */
export {
  parseContext,
  looksLikeContext,
  textValue,
  RESERVED_SECTIONS,
  type Context,
  type Section,
  type SectionPosition,
} from './parse.js';
export { parseCloudgate, parseServer, normalizeJid, CLOUDGATE_KEYS, type CloudgateSection } from './cloudgate.js';
export {
  ContextError,
  ContextNotFoundError,
  type ContextErrorCode,
  type ContextLocation,
  type SourceAttempt,
} from './errors.js';
export { applyContext, type ApplyOptions, type ApplyReport } from './apply.js';
export { loadPlugins, BUILTIN_PLUGINS, type PluginRegistry } from './registry.js';
export { planContext, type Plan, type PlanIssue } from './plan.js';
export { readState, STATE_FILE, type AppliedState, type StepState } from './state.js';
export {
  findContext,
  DEFAULT_METADATA_URL,
  DEFAULT_CONFIG_DRIVE_DIRS,
  type FindOptions,
  type ContextSource,
  type SourceKind,
} from './sources.js';
export { decodeUserData, type DecodedUserData, type Encoding } from './userdata.js';
export { ENVIRONMENT_FILE } from './plugins/environment.js';
export type {
  Plugin,
  PluginContext,
  PluginOutcome,
  PluginResult,
  PluginStatus,
  Phase,
  Problem,
  ValidateContext,
  Json,
} from './plugin.js';
export { renderCloudgate, withCloudgate, withoutSection, sectionText } from './render.js';
// Shared with the instance agent (commands, pairing, saved state): bounded processes and
// HTTP, writes kept under the configured root.
export { runScript, type RunOptions, type RunResult } from './plugins/run.js';
export { httpRequest, HttpFailure, type HttpOptions, type HttpResponse } from './http.js';
export { underRoot, writeAtomic, readIfExists } from './fsutil.js';
export { writeDurably, retryTransient, errnoOf, StateWriteError, type RetryOptions } from './durable.js';
