/**
 * Every error code cloudgate raises, with what it means (fastify's FST_ERR_* registry).
 * Codes are stable: programs and the CLI's --json output branch on them. docs/errors.md
 * lists the same codes for people; test/errors/registry.test.ts checks that every CG_*
 * code in the source is here and documented, and that every one here is used.
 *
 * `condition` is the stanza error condition a code travels as when it crosses the wire.
 */
export interface CodeInfo {
  readonly description: string;
  readonly condition?: string;
}

export const CODES = {
  // Configuration, command line and local resources.
  CG_CONFIG: {
    description: 'a configuration file is missing, unreadable or invalid; the message names the file, section and key',
  },
  CG_USAGE: { description: 'a command line is wrong: unknown agent kind, bad option or option value' },
  CG_INVALID_JID: { description: 'a string is not a valid JID; the message says why' },
  CG_STORE_OPEN: { description: 'a SQLite database cannot be opened' },
  CG_STORE_VERSION: {
    description: 'a database was written by a newer cloudgate (schema version above what this one knows)',
  },
  CG_STORE_MIGRATION: {
    description: 'a database schema migration failed; the database is left at the version before it',
  },
  CG_EJABBERD: {
    description:
      'the project-local ejabberd could not be prepared, started or stopped; the message ends with its last log lines',
  },

  // The XMPP connection and request/response.
  CG_CONNECTION: { description: 'the XMPP connection failed or the login was refused' },
  CG_STOPPED: { description: 'the agent stopped before a request completed' },
  CG_TIMEOUT: { description: 'a request got no answer within its timeout', condition: 'remote-server-timeout' },
  CG_STANZA_TOO_LARGE: {
    description:
      "a stanza is over the server's size limit (max_stanza_size): not sent, or an answer that would be too large",
    condition: 'internal-server-error',
  },

  // Stanza errors without an application condition: CG_STANZA_ + the RFC 6120 condition.
  CG_STANZA_BAD_REQUEST: { description: 'the request is malformed', condition: 'bad-request' },
  CG_STANZA_CONFLICT: {
    description: 'the request clashes with the current state (a name in use, a concurrent change)',
    condition: 'conflict',
  },
  CG_STANZA_FEATURE_NOT_IMPLEMENTED: {
    description: 'the receiver does not implement the request',
    condition: 'feature-not-implemented',
  },
  CG_STANZA_FORBIDDEN: { description: 'the sender may not do this', condition: 'forbidden' },
  CG_STANZA_INTERNAL_SERVER_ERROR: {
    description: 'the receiver failed (its log has the details)',
    condition: 'internal-server-error',
  },
  CG_STANZA_ITEM_NOT_FOUND: { description: 'the item asked for does not exist', condition: 'item-not-found' },
  CG_STANZA_NOT_ACCEPTABLE: {
    description: 'the receiver will not accept the request as it is',
    condition: 'not-acceptable',
  },
  CG_STANZA_NOT_ALLOWED: { description: 'nobody may do this', condition: 'not-allowed' },
  CG_STANZA_NOT_AUTHORIZED: { description: 'credentials are missing or wrong', condition: 'not-authorized' },
  CG_STANZA_POLICY_VIOLATION: {
    description: 'the request breaks a policy of the receiver or the server',
    condition: 'policy-violation',
  },
  CG_STANZA_RECIPIENT_UNAVAILABLE: { description: 'the recipient is offline', condition: 'recipient-unavailable' },
  CG_STANZA_REMOTE_SERVER_TIMEOUT: {
    description: 'a remote server did not answer in time',
    condition: 'remote-server-timeout',
  },
  CG_STANZA_RESOURCE_CONSTRAINT: {
    description: 'the receiver lacks the resources to serve the request now',
    condition: 'resource-constraint',
  },
  CG_STANZA_SERVICE_UNAVAILABLE: {
    description: 'nobody serves this request at that address (for a request to a bare JID, the server answers this)',
    condition: 'service-unavailable',
  },
  CG_STANZA_UNDEFINED_CONDITION: {
    description: 'an error without a known condition',
    condition: 'undefined-condition',
  },
  CG_STANZA_UNEXPECTED_REQUEST: { description: 'the request came at the wrong time', condition: 'unexpected-request' },

  // Stanza errors with an application condition: CG_STANZA_ + the condition (conditions.ts).
  CG_STANZA_BUSY: {
    description: 'the agent is serving as many requests as it allows; retry later',
    condition: 'resource-constraint',
  },
  CG_STANZA_CAPACITY: {
    description: 'no cloud (or not this cloud) has room for the instances asked for',
    condition: 'resource-constraint',
  },
  CG_STANZA_CLOUD_REFUSED: {
    description: "the cloud's API refused or failed the call (details in the cloud agent's log)",
    condition: 'resource-constraint',
  },
  CG_STANZA_DRAINING: { description: 'the instance is draining and takes no new work', condition: 'not-allowed' },
  CG_STANZA_ENCRYPTED: {
    description: 'the context is encrypted and cannot be used this way without its passphrase',
    condition: 'not-acceptable',
  },
  CG_STANZA_FILTERED: {
    description: 'a filter of the receiving agent stopped the request before its handler',
    condition: 'not-allowed',
  },
  CG_STANZA_IDENTITY: {
    description: 'a new context names another instance than the one it was sent to',
    condition: 'bad-request',
  },
  CG_STANZA_ILLEGAL_TRANSITION: {
    description: 'the deployment or instance cannot go to that state from its current one',
    condition: 'conflict',
  },
  CG_STANZA_INVALID_FIELD: {
    description: 'a field of the payload is missing or invalid; the text names it by path',
    condition: 'bad-request',
  },
  CG_STANZA_NAME_TAKEN: {
    description: 'an instance name is already used by another deployment or owner',
    condition: 'conflict',
  },
  CG_STANZA_NOT_FOUND: {
    description: 'no such deployment, context, cluster, service or instance (for this user)',
    condition: 'item-not-found',
  },
  CG_STANZA_NOT_IN_ACL: {
    description: "the user (or the requester) is not in the receiving agent's access list",
    condition: 'forbidden',
  },
  CG_STANZA_NOT_OWNER: {
    description: 'the instance belongs to another owner, requester or cloud',
    condition: 'forbidden',
  },
  CG_STANZA_NOT_PAIRED: { description: 'the sender was not paired by this gateway', condition: 'forbidden' },
  CG_STANZA_PASSPHRASE: { description: 'the context passphrase is missing or wrong', condition: 'not-authorized' },
  CG_STANZA_QUOTA_EXCEEDED: {
    description: "the user's or the cloud's quota has no room left",
    condition: 'resource-constraint',
  },
  CG_STANZA_STALE_VERSION: {
    description: 'the context version is not newer than the one applied',
    condition: 'conflict',
  },
  CG_STANZA_TOO_MANY_CODES: {
    description: 'the user holds as many unused pairing codes as allowed; let some expire first',
    condition: 'resource-constraint',
  },
  CG_STANZA_UNAUTHORIZED_SENDER: {
    description: 'the sender may not send this agent typed requests or messages',
    condition: 'forbidden',
  },
  CG_STANZA_UNKNOWN_PAYLOAD: {
    description: 'the payload is not one the receiver serves, or an answer lacks its payload',
    condition: 'service-unavailable',
  },
  CG_STANZA_WRONG_IQ_TYPE: {
    description: 'the request came as IQ get where set is defined, or the other way round',
    condition: 'bad-request',
  },

  // Clouds (drivers): CloudError kinds.
  CG_CLOUD_QUOTA: { description: "the cloud refused: the account's quota is exhausted" },
  CG_CLOUD_CAPACITY: { description: 'the cloud refused: no capacity for the flavor asked for' },
  CG_CLOUD_AUTH: { description: "the cloud refused the agent's credentials" },
  CG_CLOUD_NOT_FOUND: { description: 'the cloud does not know the image, flavor or instance named' },
  CG_CLOUD_INVALID: { description: 'the cloud refused the request as invalid' },
  CG_CLOUD_UNAVAILABLE: { description: 'the cloud could not be reached or failed' },

  // Gateway model.
  CG_NOT_FOUND: { description: 'no such deployment, context, cluster or user', condition: 'item-not-found' },
  CG_CONFLICT: { description: 'the change clashes with what is stored', condition: 'conflict' },
  CG_INVALID: {
    description: 'a value is invalid (e.g. a cluster definition); the message names it',
    condition: 'bad-request',
  },
  CG_FORBIDDEN: { description: 'the user may not see or change this item', condition: 'forbidden' },
  CG_ILLEGAL_TRANSITION: {
    description: 'a deployment or instance cannot go from its state to the one asked',
    condition: 'conflict',
  },
  CG_PLACEMENT: {
    description: 'not every instance asked for fits on the clouds configured',
    condition: 'resource-constraint',
  },
  CG_CONTEXT_PASSPHRASE: {
    description: "an encrypted context's passphrase is missing or wrong",
    condition: 'not-authorized',
  },
  CG_CONTEXT_ENVELOPE: { description: 'a stored encrypted context is damaged (its envelope does not parse)' },
  CG_CONTEXT_UNAVAILABLE: {
    description:
      'the context of a service cannot be used for a deployment now (encrypted without its passphrase, or gone)',
  },
  CG_CONTEXT_REJECTED: {
    description:
      'a context body the instance agent would refuse: each problem named with its line, section and key; nothing stored',
    condition: 'bad-request',
  },
  CG_CONTEXT_PASSPHRASE_REQUIRED: {
    description: 'an encrypted context was asked for without its passphrase',
    condition: 'bad-request',
  },

  // Contexts (the instance agent reads them; the gateway checks them).
  CG_CONTEXT_SYNTAX: {
    description: 'a context line is not INI: bad section header, key without "=", stray continuation',
  },
  CG_CONTEXT_DUPLICATE: { description: 'a key, section or plugin appears twice in a context' },
  CG_CONTEXT_INVALID: { description: 'a well-formed context has a wrong value ([cloudgate] or plugins=)' },
  CG_CONTEXT_PLUGIN_LOAD: { description: 'an operator plugin module could not be loaded or is malformed' },
  CG_CONTEXT_PLUGIN_CONFLICT: { description: 'two context plugins claim the same name' },
  CG_CONTEXT_DECODE: { description: 'user-data looked gzipped or base64 but did not decode' },
  CG_CONTEXT_NOT_FOUND: { description: 'no context source held a context; the message lists the sources tried' },

  // Instance agent.
  CG_INSTANCE_NO_IDENTITY: { description: 'the context has no usable [cloudgate] section (jid, token)' },
  CG_INSTANCE_IDENTITY: { description: 'a newer context names another instance' },
  CG_INSTANCE_PAIRING: { description: 'the gateway refused pairing or could not be reached for it' },
  CG_INSTANCE_STATE_WRITE: {
    description:
      'the instance agent could not write one of its records (applied state, saved context, token); the message names the path and system error code',
  },

  // Image metadata and its signed envelope (images/).
  CG_IMAGE_METADATA: { description: 'the metadata document is not valid (the message names the field)' },
  CG_IMAGE_ENVELOPE: { description: 'the envelope is not a well-formed DSSE envelope' },
  CG_IMAGE_PAYLOAD_TYPE: { description: 'the envelope claims a payload type other than the one expected' },
  CG_IMAGE_TYPE_SWAPPED: { description: 'a signature verifies only under another payload type' },
  CG_IMAGE_TAMPERED: { description: "a trusted key's signature does not match the payload" },
  CG_IMAGE_UNKNOWN_KEY: { description: 'no signature is by a key in the keyring' },
  CG_IMAGE_UNSIGNED: { description: 'no signature at all (or no metadata)' },
  CG_IMAGE_EXPIRED: { description: 'valid_until has passed' },
  CG_IMAGE_DEPRECATED: { description: 'the endorser deprecated the image' },
  CG_IMAGE_REFUSED: { description: 'the site refuses this image or checksum' },
  CG_IMAGE_MISMATCH: { description: 'signed metadata describes another image' },
  CG_IMAGE_KEY: { description: 'a key or endorser file cannot be used' },

  // Client library and CLI.
  CG_UNREACHABLE: { description: 'the gateway is not online, or did not answer' },
  CG_FAILED: { description: 'the operation ran and failed (e.g. the deployment failed)' },
  CG_INTERNAL: { description: 'an error without a code (a bug): reported by the CLI as this' },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

export const isCode = (s: string): s is Code => Object.hasOwn(CODES, s);
