/**
 * The gateway's state and decisions, without XMPP: persistence (users, groups, contexts,
 * cluster definitions, deployments, instances, jobs, events), context encryption, the
 * cluster definition parser, placement and scale-in choice.
 */
export { createGatewayModel, type GatewayModel, type ModelOptions } from './model.js';
export { openGatewayStore, GATEWAY_MIGRATIONS } from './schema.js';

export {
  NotFoundError,
  ConflictError,
  InvalidError,
  ForbiddenError,
  IllegalTransitionError,
  PassphraseError,
  PassphraseRequiredError,
  EnvelopeError,
  PlacementError,
  ContextRejectedError,
  type CloudRefusal,
  type ContextProblem,
} from './errors.js';

export {
  DEPLOYMENT_STATES,
  INSTANCE_STATES,
  JOB_STATES,
  canTransition,
  isTerminal,
  type DeploymentState,
  type InstanceState,
  type JobState,
} from './states.js';

export { bareJid, type User, type Group, type Users, type Groups } from './users.js';
export type {
  ContextContent,
  ContextInfo,
  ContextVersion,
  ContextVersionMeta,
  Visibility,
  Contexts,
} from './contexts.js';
export type { ClusterRecord, ClusterDefs } from './cluster-defs.js';
export type { Deployment, Deployments } from './deployments.js';
export type { Instance, ContextRef, Instances } from './instances.js';
export type { Job, JobKind, Jobs } from './jobs.js';
export type { DeploymentEvent, Events } from './events.js';
export type { Wanted } from './wanted.js';

export { encryptContext, decryptContext, isEncryptedContext, DEFAULT_KDF, type KdfParams } from './crypto.js';

export {
  parseCluster,
  loadCluster,
  flavorSize,
  GENERIC_FLAVORS,
  type ClusterDef,
  type ServiceDef,
  type FixedService,
  type ScalableService,
  type Flavor,
  type GenericFlavorName,
} from './cluster.js';

export type { AutoscaleSetting, Autoscale, ScaledRow } from './autoscale.js';
export {
  BUILTIN_METRICS,
  parsePolicy,
  type AutoscalePolicy,
  type TargetPolicy,
  type QueuePolicy,
} from './autoscale-policy.js';

export {
  planPlacement,
  type PlacementInput,
  type PlacementPlan,
  type Placement,
  type ServiceRequest,
  type CloudCandidate,
  type Resources,
} from './placement.js';
export { pickScaleIn, type ScaleInCandidate } from './scale-in.js';
