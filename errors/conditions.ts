/**
 * The conditions an error carries on the wire (RFC 6120 §8.3): the defined stanza error
 * conditions, the error type each suggests, and cloudgate's application conditions
 * (urn:cloudgate:error:1), which programs switch on. Each application condition names
 * the stanza condition it normally travels with and its CG_* code, whose entry in
 * codes.ts says what it means; docs/errors.md lists them all.
 */
import type { Code } from './codes.js';

/** RFC 6120 §8.3.3 defined conditions, with the type §8.3.2 suggests and our code. */
export const CONDITIONS = {
  'bad-request': { type: 'modify', code: 'CG_STANZA_BAD_REQUEST' },
  conflict: { type: 'cancel', code: 'CG_STANZA_CONFLICT' },
  'feature-not-implemented': { type: 'cancel', code: 'CG_STANZA_FEATURE_NOT_IMPLEMENTED' },
  forbidden: { type: 'auth', code: 'CG_STANZA_FORBIDDEN' },
  'internal-server-error': { type: 'cancel', code: 'CG_STANZA_INTERNAL_SERVER_ERROR' },
  'item-not-found': { type: 'cancel', code: 'CG_STANZA_ITEM_NOT_FOUND' },
  'not-acceptable': { type: 'modify', code: 'CG_STANZA_NOT_ACCEPTABLE' },
  'not-allowed': { type: 'cancel', code: 'CG_STANZA_NOT_ALLOWED' },
  'not-authorized': { type: 'auth', code: 'CG_STANZA_NOT_AUTHORIZED' },
  'policy-violation': { type: 'modify', code: 'CG_STANZA_POLICY_VIOLATION' },
  'recipient-unavailable': { type: 'wait', code: 'CG_STANZA_RECIPIENT_UNAVAILABLE' },
  'remote-server-timeout': { type: 'wait', code: 'CG_STANZA_REMOTE_SERVER_TIMEOUT' },
  'resource-constraint': { type: 'wait', code: 'CG_STANZA_RESOURCE_CONSTRAINT' },
  'service-unavailable': { type: 'cancel', code: 'CG_STANZA_SERVICE_UNAVAILABLE' },
  'undefined-condition': { type: 'cancel', code: 'CG_STANZA_UNDEFINED_CONDITION' },
  'unexpected-request': { type: 'wait', code: 'CG_STANZA_UNEXPECTED_REQUEST' },
} as const satisfies Record<string, { type: ErrorType; code: Code }>;

export type Condition = keyof typeof CONDITIONS;
export type ErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** Application conditions: stable names clients branch on. */
export const APP_CONDITIONS = {
  busy: { condition: 'resource-constraint', code: 'CG_STANZA_BUSY' },
  capacity: { condition: 'resource-constraint', code: 'CG_STANZA_CAPACITY' },
  'cloud-refused': { condition: 'resource-constraint', code: 'CG_STANZA_CLOUD_REFUSED' },
  conflict: { condition: 'conflict', code: 'CG_STANZA_CONFLICT' },
  draining: { condition: 'not-allowed', code: 'CG_STANZA_DRAINING' },
  encrypted: { condition: 'not-acceptable', code: 'CG_STANZA_ENCRYPTED' },
  filtered: { condition: 'not-allowed', code: 'CG_STANZA_FILTERED' },
  identity: { condition: 'bad-request', code: 'CG_STANZA_IDENTITY' },
  'illegal-transition': { condition: 'conflict', code: 'CG_STANZA_ILLEGAL_TRANSITION' },
  'invalid-field': { condition: 'bad-request', code: 'CG_STANZA_INVALID_FIELD' },
  'name-taken': { condition: 'conflict', code: 'CG_STANZA_NAME_TAKEN' },
  'not-found': { condition: 'item-not-found', code: 'CG_STANZA_NOT_FOUND' },
  'not-in-acl': { condition: 'forbidden', code: 'CG_STANZA_NOT_IN_ACL' },
  'not-owner': { condition: 'forbidden', code: 'CG_STANZA_NOT_OWNER' },
  'not-paired': { condition: 'forbidden', code: 'CG_STANZA_NOT_PAIRED' },
  passphrase: { condition: 'not-authorized', code: 'CG_STANZA_PASSPHRASE' },
  'quota-exceeded': { condition: 'resource-constraint', code: 'CG_STANZA_QUOTA_EXCEEDED' },
  'stale-version': { condition: 'conflict', code: 'CG_STANZA_STALE_VERSION' },
  'too-many-codes': { condition: 'resource-constraint', code: 'CG_STANZA_TOO_MANY_CODES' },
  'too-large': { condition: 'internal-server-error', code: 'CG_STANZA_TOO_LARGE' },
  'unauthorized-sender': { condition: 'forbidden', code: 'CG_STANZA_UNAUTHORIZED_SENDER' },
  'unknown-payload': { condition: 'service-unavailable', code: 'CG_STANZA_UNKNOWN_PAYLOAD' },
  'wrong-iq-type': { condition: 'bad-request', code: 'CG_STANZA_WRONG_IQ_TYPE' },
} as const satisfies Record<string, { condition: Condition; code: Code }>;

export type AppCondition = keyof typeof APP_CONDITIONS;

export const isCondition = (s: string): s is Condition => Object.hasOwn(CONDITIONS, s);
export const isAppCondition = (s: string): s is AppCondition => Object.hasOwn(APP_CONDITIONS, s);
export const APP_CONDITION_NAMES = Object.keys(APP_CONDITIONS) as AppCondition[];
