/**
 * urn:cloudgate:gateway:1 — the gateway's typed API for programs (the client library,
 * the CLI, the HTTP front) and the per-deployment PubSub events clients follow live.
 * The sender's bare JID is the user; the gateway authorizes every request by it.
 */
import { defineRequest, defineEvent } from './define.js';
import { object, str, int, bool, jid, text, json, list, optional, oneOf, intRecord } from './schema.js';

export const NS_GATEWAY = 'urn:cloudgate:gateway:1';

/**
 * The gateway's address for programs is its account's full JID with this resource
 * (`gateway@example.org/gateway`) unless its [xmpp] resource says otherwise. A request
 * to the bare JID is answered by the server itself (RFC 6120 §10.5.3.1: an IQ to an
 * account's bare JID is handled on the account's behalf), with service-unavailable.
 */
export const GATEWAY_RESOURCE = 'gateway';

export const DEPLOYMENT_STATES = ['pending', 'running', 'completed', 'failed', 'aborted'] as const;
const id = () => str({ max: 128 });

const InstanceView = object({
  name: str({ max: 128 }),
  service: str({ max: 128 }),
  cloud: str({ max: 256 }),
  state: str({ max: 32 }),
  ready: bool(),
  context_version: int({ min: 0 }),
  cloud_instance_id: optional(str({ max: 256 })),
  /** Why it failed or was replaced (a failed context says which plugin found what, where). */
  reason: optional(str({ max: 16384 })),
});

/** A service's autoscaling policy as users see it: in force or paused, and why it last decided what it did. */
const AutoscalePolicyView = object({
  service: str({ max: 128 }),
  policy: str({ max: 1024 }),
  paused: bool(),
  note: optional(str({ max: 1024 })),
  last: optional(str({ max: 4096 })),
});

const DeploymentView = object({
  id: id(),
  cluster: str({ max: 128 }),
  owner: jid(),
  state: oneOf(DEPLOYMENT_STATES),
  created: str({ max: 40 }),
  updated: str({ max: 40 }),
  /** PubSub node with this deployment's events. */
  node: str({ max: 256 }),
  /** Set once a destroy was asked for (when): 'destroying' until every instance is terminated, then 'destroyed'. */
  destroyed: optional(oneOf(['destroying', 'destroyed'] as const)),
  services: list(
    object({
      name: str({ max: 128 }),
      type: oneOf(['fixed', 'scalable'] as const),
      wanted: int({ min: 0 }),
      ready: int({ min: 0 }),
    }),
    { itemName: 'service' },
  ),
  instances: list(InstanceView, { max: 100000, itemName: 'instance' }),
  /** The autoscaling policies of its services (status of one deployment that has any). */
  autoscale: optional(list(AutoscalePolicyView, { max: 100, itemName: 'policy' })),
});

export const Deploy = defineRequest(NS_GATEWAY, 'deploy', {
  request: object({
    cluster: str({ max: 128 }),
    /** Initial counts per scalable service, overriding the definition. */
    counts: optional(intRecord({ max: 100, min: 0 })),
    /** Passphrase for encrypted contexts (never stored). */
    passphrase: optional(str({ max: 1024 })),
  }),
  response: object({ deployment: DeploymentView }),
  timeoutMs: 60000,
});

export const Status = defineRequest(NS_GATEWAY, 'status', {
  iqType: 'get',
  request: object({ deployment: optional(id()) }),
  response: object({ deployments: list(DeploymentView, { max: 10000, itemName: 'deployment' }) }),
});

export const Scale = defineRequest(NS_GATEWAY, 'scale', {
  request: object({ deployment: id(), service: str({ max: 128 }), count: int({ min: 0, max: 10000 }) }),
  response: object({ deployment: DeploymentView }),
  timeoutMs: 60000,
});

export const Destroy = defineRequest(NS_GATEWAY, 'destroy', {
  request: object({ deployment: id() }),
  response: object({ deployment: DeploymentView }),
  timeoutMs: 60000,
});

/**
 * Autoscaling policies of a deployment's services: show them, pause or resume one, or
 * set one (`policy`: the body of an `[autoscale.<service>]` section, `key = value` lines).
 */
export const Autoscale = defineRequest(NS_GATEWAY, 'autoscale', {
  request: object({
    deployment: id(),
    action: oneOf(['show', 'pause', 'resume', 'set'] as const),
    service: optional(str({ max: 128 })),
    policy: optional(text({ max: 16 * 1024 })),
  }),
  response: object({
    policies: list(AutoscalePolicyView, { itemName: 'policy' }),
  }),
});

const ContextView = object({
  id: id(),
  name: str({ max: 128 }),
  owner: jid(),
  visibility: oneOf(['public', 'private'] as const),
  version: int({ min: 0 }),
  encrypted: bool(),
  parent: optional(id()),
});

export const ListContexts = defineRequest(NS_GATEWAY, 'contexts', {
  iqType: 'get',
  request: object({}),
  response: object({ contexts: list(ContextView, { max: 10000, itemName: 'context' }) }),
});

/** Creates a context, or a new version of the caller's context of that name. */
export const PutContext = defineRequest(NS_GATEWAY, 'put-context', {
  request: object({
    name: str({ max: 128, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ }),
    body: text({ max: 256 * 1024 }),
    visibility: optional(oneOf(['public', 'private'] as const)),
    passphrase: optional(str({ max: 1024 })),
  }),
  /** `warnings`: what the body's check found that may still be fine (e.g. a section no built-in plugin reads), one line each. */
  response: object({
    context: ContextView,
    warnings: optional(list(str({ max: 4096 }), { max: 1000, itemName: 'warning' })),
  }),
});

export const GetContext = defineRequest(NS_GATEWAY, 'get-context', {
  iqType: 'get',
  request: object({
    ref: str({ max: 128 }),
    version: optional(int({ min: 1 })),
    passphrase: optional(str({ max: 1024 })),
  }),
  response: object({ context: ContextView, body: text({ max: 256 * 1024 }) }),
});

export const CloneContext = defineRequest(NS_GATEWAY, 'clone-context', {
  request: object({ ref: str({ max: 128 }), name: optional(str({ max: 128 })) }),
  response: object({ context: ContextView }),
});

const ClusterView = object({
  name: str({ max: 128 }),
  owner: jid(),
  services: list(str({ max: 128 }), { itemName: 'service' }),
});

export const ListClusters = defineRequest(NS_GATEWAY, 'clusters', {
  iqType: 'get',
  request: object({}),
  response: object({ clusters: list(ClusterView, { max: 10000, itemName: 'cluster' }) }),
});

export const PutCluster = defineRequest(NS_GATEWAY, 'put-cluster', {
  request: object({ definition: text({ max: 256 * 1024 }) }),
  response: object({ cluster: ClusterView }),
});

/** A marketplace entry: what was written for it, never the content it shares. */
const MarketEntryView = object({
  id: id(),
  kind: oneOf(['context', 'cluster'] as const),
  owner: jid(),
  name: str({ max: 128 }),
  summary: str({ max: 140 }),
  description: optional(text({ max: 4000 })),
  /** Context entries: the published context and version. */
  context: optional(id()),
  version: optional(int({ min: 1 })),
  encrypted: bool(),
  tags: list(str({ max: 32 }), { max: 16, itemName: 'tag' }),
  rank: int(),
  votes: int({ min: 0 }),
  created: str({ max: 64 }),
});

/** Shares one of the sender's contexts (its newest version) or, with `cluster`, a cluster definition. */
export const Publish = defineRequest(NS_GATEWAY, 'publish', {
  request: object({
    context: optional(str({ max: 128 })),
    cluster: optional(str({ max: 128 })),
    summary: str({ max: 140 }),
    description: optional(text({ max: 4000 })),
    tags: optional(list(str({ max: 32 }), { max: 16, itemName: 'tag' })),
  }),
  response: object({ entry: MarketEntryView }),
});

export const Unpublish = defineRequest(NS_GATEWAY, 'unpublish', {
  request: object({ id: id() }),
  response: object({}),
});

/** `q`: words, +tag (required) and -tag (excluded); `page` counts from 1. */
export const MarketSearch = defineRequest(NS_GATEWAY, 'market', {
  iqType: 'get',
  request: object({ q: optional(str({ max: 1024 })), page: optional(int({ min: 1, max: 1000000 })) }),
  response: object({
    entries: list(MarketEntryView, { max: 100, itemName: 'entry' }),
    total: int({ min: 0 }),
    page: int({ min: 1 }),
    pages: int({ min: 1 }),
  }),
});

export const Vote = defineRequest(NS_GATEWAY, 'vote', {
  request: object({ id: id(), value: oneOf(['up', 'down', 'clear'] as const) }),
  response: object({ entry: MarketEntryView }),
});

/** Copies an entry into a context (or, for a cluster entry, a cluster definition) of the sender's. */
export const CloneEntry = defineRequest(NS_GATEWAY, 'clone-entry', {
  request: object({ id: id(), name: optional(str({ max: 128 })) }),
  response: object({ context: optional(ContextView), cluster: optional(ClusterView) }),
});

/**
 * Deploys a cluster entry as the sender's cluster of the same name: cloned on first use
 * (`cloned`), reused while it is the same definition, refused (conflict) if the sender's
 * cluster of that name is a different one.
 */
export const DeployEntry = defineRequest(NS_GATEWAY, 'deploy-entry', {
  request: object({
    id: id(),
    counts: optional(intRecord({ max: 100, min: 0 })),
    /** Passphrase for encrypted contexts (never stored). */
    passphrase: optional(str({ max: 1024 })),
  }),
  response: object({ deployment: DeploymentView, cluster: ClusterView, cloned: bool() }),
  timeoutMs: 60000,
});

/** A single-use pairing code for the context version a context entry published (never an encrypted one). */
export const PairEntry = defineRequest(NS_GATEWAY, 'pair-entry', {
  request: object({ id: id(), ttl_s: optional(int({ min: 30, max: 86400 })) }),
  response: object({ code: str({ max: 64 }), expires: int(), context: str({ max: 128 }), version: int({ min: 1 }) }),
});

/**
 * Publishes signed image metadata (a DSSE envelope, as JSON text) to the gateway's image
 * registry. The gateway verifies it against the endorsers it trusts before reading it;
 * a refusal is not-acceptable, its text ending with the reason's code ([CG_IMAGE_…]).
 */
export const PublishImage = defineRequest(NS_GATEWAY, 'publish-image', {
  request: object({ envelope: text({ max: 64 * 1024 }) }),
  response: object({
    /** `name@version`. */
    image: str({ max: 256 }),
    valid_until: str({ max: 64 }),
    /** Key ids (SHA-256 of the raw public key, hex) of the trusted endorsers who signed it. */
    endorsers: list(str({ max: 64 }), { max: 32, itemName: 'keyid' }),
    /** `name@version` of the metadata it replaced. */
    replaced: optional(str({ max: 256 })),
  }),
});

/**
 * The gateway's image registry: each image's signed metadata in short, and the online
 * clouds that map its generic name to an image of their own (from their presence).
 */
export const ListImages = defineRequest(NS_GATEWAY, 'images', {
  iqType: 'get',
  request: object({}),
  response: object({
    images: list(
      object({
        name: str({ max: 128 }),
        version: str({ max: 64 }),
        /** Family and version: `alma 9`. */
        os: str({ max: 160 }),
        arch: str({ max: 64 }),
        format: str({ max: 64 }),
        /** `name version` each. */
        provides: list(str({ max: 160 }), { max: 100, itemName: 'app' }),
        cores: int({ min: 0 }),
        memory_mb: int({ min: 0 }),
        disk_gb: int({ min: 0 }),
        sha256: str({ max: 64 }),
        valid_until: str({ max: 64 }),
        deprecated: optional(str({ max: 1024 })),
        clouds: list(str({ max: 128 }), { max: 1000, itemName: 'cloud' }),
      }),
      { max: 10000, itemName: 'image' },
    ),
  }),
});

export const ListClouds = defineRequest(NS_GATEWAY, 'clouds', {
  iqType: 'get',
  request: object({}),
  response: object({
    clouds: list(
      object({
        jid: jid(),
        name: str({ max: 128 }),
        driver: str({ max: 32 }),
        online: bool(),
        instances: int({ min: 0 }),
        free_instances: int({ min: 0 }),
      }),
      { itemName: 'cloud' },
    ),
  }),
});

export const WhoAmI = defineRequest(NS_GATEWAY, 'whoami', {
  iqType: 'get',
  request: object({}),
  response: object({ jid: jid(), admin: bool(), groups: list(str({ max: 128 }), { itemName: 'group' }) }),
});

/** A single-use, expiring code with which an already-running machine fetches a context. */
export const PairingCode = defineRequest(NS_GATEWAY, 'pairing-code', {
  request: object({
    context: str({ max: 128 }),
    version: optional(int({ min: 1 })),
    ttl_s: optional(int({ min: 30, max: 86400 })),
  }),
  response: object({ code: str({ max: 64 }), expires: int() }),
});

/** Every change of a deployment, published on its node (`deployments/<id>`). */
export const DeploymentEvent = defineEvent(
  NS_GATEWAY,
  'deployment-event',
  object({
    deployment: id(),
    seq: int({ min: 0 }),
    type: str({ max: 64 }),
    message: str({ max: 4096 }),
    state: oneOf(DEPLOYMENT_STATES),
    data: optional(json({ max: 64 * 1024 })),
    at: str({ max: 40 }),
  }),
);
