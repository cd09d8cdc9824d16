/**
 * urn:cloudgate:cloud:1 — between a gateway (or any trusted requester) and a cloud agent.
 *
 * Discovery and listing are requests (IQ). Allocation and termination are reliable
 * messages: they are stored offline when the cloud agent is away, acknowledged,
 * re-sent until acknowledged and de-duplicated, and the cloud agent creates instances
 * idempotently by name, so a restart on either side ends with exactly the instances
 * asked for. State changes come back as reliable messages to the requester.
 */
import { defineRequest, defineMessage, definePresence, defineEvent } from './define.js';
import { object, str, int, bool, jid, text, list, optional, oneOf, record } from './schema.js';
import { INSTANCE_NAME_MAX, INSTANCE_NAME_PATTERN } from './names.js';
import { APP_CONDITION_NAMES } from '../errors/index.js';

export const NS_CLOUD = 'urn:cloudgate:cloud:1';

/** A cloud agent's address: its account's full JID with this resource, unless its [xmpp] resource says otherwise (see GATEWAY_RESOURCE). */
export const CLOUD_RESOURCE = 'cloud';

export const INSTANCE_STATES = ['pending', 'running', 'stopping', 'terminated', 'error', 'unknown'] as const;
export type CloudInstanceState = (typeof INSTANCE_STATES)[number];

const name = () => str({ max: 128, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ });
/** An instance's name in its cloud (names.ts). */
const instanceName = () => str({ max: INSTANCE_NAME_MAX, pattern: INSTANCE_NAME_PATTERN });

/** What a cloud agent says in its presence: who it is and what it can still host. */
export const CloudPresence = definePresence(
  NS_CLOUD,
  'cloud',
  object({
    name: name(),
    driver: str({ max: 32 }),
    instances: int({ min: 0 }),
    free_instances: int({ min: 0 }),
    free_cores: optional(int({ min: 0 })),
    free_memory_mb: optional(int({ min: 0 })),
    flavors: list(str({ max: 64 }), { max: 100, itemName: 'flavor' }),
    images: list(str({ max: 128 }), { max: 1000, itemName: 'image' }),
  }),
);

/** "Can you host this?" — answered after ACL and quota, without calling the cloud. */
export const Discover = defineRequest(NS_CLOUD, 'discover', {
  iqType: 'get',
  request: object({
    owner: jid(),
    groups: optional(list(str({ max: 128 }), { max: 100, itemName: 'group' })),
    flavor: str({ max: 64 }),
    image: str({ max: 128 }),
    count: int({ min: 1, max: 10000 }),
  }),
  response: object({
    accept: bool(),
    /** How many of `count` it could host now (0 when refused). */
    max: int({ min: 0 }),
    reason: optional(str({ max: 1024 })),
  }),
  timeoutMs: 10000,
});

/** Create one instance per name (idempotent by name). */
export const Allocate = defineMessage(
  NS_CLOUD,
  'allocate',
  object({
    request_id: str({ max: 128 }),
    deployment: name(),
    service: name(),
    owner: jid(),
    groups: optional(list(str({ max: 128 }), { max: 100, itemName: 'group' })),
    flavor: str({ max: 64 }),
    image: str({ max: 128 }),
    names: list(instanceName(), { max: 1000, itemName: 'name' }),
    /** The user's context (amiconfig INI); the cloud agent adds the [cloudgate] section. */
    context: text({ max: 256 * 1024 }),
    context_version: int({ min: 0 }),
    context_id: optional(str({ max: 128 })),
    /** JIDs the instance agents will obey (the gateway, the owner). */
    allow: list(jid(), { max: 100, itemName: 'jid' }),
  }),
);

/** The outcome of an allocate message, sent reliably to the requester. */
export const AllocateResult = defineMessage(
  NS_CLOUD,
  'allocate-result',
  object({
    request_id: str({ max: 128 }),
    deployment: name(),
    service: name(),
    accepted: list(instanceName(), { max: 1000, itemName: 'name' }),
    refused: list(instanceName(), { max: 1000, itemName: 'name' }),
    /** Application condition when refused: not-in-acl, quota-exceeded, capacity, cloud-refused, invalid-field, name-taken. */
    condition: optional(oneOf(APP_CONDITION_NAMES)),
    reason: optional(str({ max: 2048 })),
  }),
);

export const Terminate = defineMessage(
  NS_CLOUD,
  'terminate',
  object({
    request_id: str({ max: 128 }),
    deployment: name(),
    owner: jid(),
    /** Instance names; empty = every instance of the deployment. */
    names: list(instanceName(), { max: 10000, itemName: 'name' }),
  }),
);

const instanceFields = {
  deployment: name(),
  service: name(),
  name: instanceName(),
  id: optional(str({ max: 256 })),
  jid: optional(jid()),
  state: oneOf(INSTANCE_STATES),
  provider_state: optional(str({ max: 64 })),
  reason: optional(str({ max: 2048 })),
  addresses: optional(list(str({ max: 64 }), { max: 16, itemName: 'address' })),
  at: str({ max: 40 }),
};

/** Every state change of an instance, sent reliably to the requester and published. */
export const InstanceState = defineMessage(NS_CLOUD, 'instance-state', object(instanceFields));
export const InstanceStateEvent = defineEvent(NS_CLOUD, 'instance-state', object(instanceFields));

export const ListInstances = defineRequest(NS_CLOUD, 'list', {
  iqType: 'get',
  request: object({ deployment: optional(name()), owner: optional(jid()) }),
  response: object({ instances: list(object(instanceFields), { max: 100000, itemName: 'instance' }) }),
  timeoutMs: 30000,
});

/** An instance agent asks its cloud agent for a fresh login token before the old one expires. */
export const RenewToken = defineRequest(NS_CLOUD, 'renew-token', {
  request: object({}),
  response: object({ token: str({ max: 4096 }), expires: int({ min: 0 }) }),
  timeoutMs: 10000,
});

export const CloudInfo = defineRequest(NS_CLOUD, 'info', {
  iqType: 'get',
  request: object({}),
  response: object({
    name: name(),
    driver: str({ max: 32 }),
    features: list(str({ max: 32 }), { itemName: 'feature' }),
    flavors: list(object({ name: str({ max: 64 }), cores: int(), memory_mb: int() }), { itemName: 'flavor' }),
    images: list(str({ max: 128 }), { itemName: 'image' }),
    quota: record(),
    usage: record(),
  }),
});
