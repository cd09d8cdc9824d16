/**
 * Model errors as the wire sees them: each typed gateway error becomes a stanza error
 * with a defined condition and an application condition programs can branch on.
 */
import { CloudgateError, ConfigInvalidError } from '../../core/index.js';
import { StanzaError } from '../../protocols/index.js';

export function toStanzaError(err: unknown): unknown {
  if (err instanceof StanzaError || !(err instanceof CloudgateError)) return err;
  if (err instanceof ConfigInvalidError) return new StanzaError('bad-request', err.message, 'invalid-field');
  switch (err.code) {
    case 'CG_NOT_FOUND':
      return new StanzaError('item-not-found', err.message, 'not-found');
    case 'CG_CONFLICT':
      return new StanzaError('conflict', err.message, 'conflict');
    case 'CG_ILLEGAL_TRANSITION':
      return new StanzaError('conflict', err.message, 'illegal-transition');
    case 'CG_INVALID':
      return new StanzaError('bad-request', err.message, 'invalid-field');
    case 'CG_CONTEXT_REJECTED':
      return new StanzaError('bad-request', err.message, 'invalid-field');
    case 'CG_FORBIDDEN':
      return new StanzaError('forbidden', err.message, 'not-in-acl');
    case 'CG_CONTEXT_PASSPHRASE':
      return new StanzaError('not-authorized', err.message, 'passphrase');
    case 'CG_CONTEXT_PASSPHRASE_REQUIRED':
      return new StanzaError('bad-request', err.message, 'passphrase');
    case 'CG_PLACEMENT':
      return new StanzaError('resource-constraint', err.message, 'capacity');
    default:
      return err;
  }
}
