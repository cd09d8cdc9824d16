/**
 * Errors that cross the wire: an RFC 6120 §8.3 stanza error with a defined condition,
 * plus an application condition in urn:cloudgate:error:1 so programs branch on it.
 * (After xmpp.js packages/error: toElement/fromElement.)
 */
import { Element } from 'ltx';
import { CloudgateError } from '../core/errors.js';

export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const NS_ERROR = 'urn:cloudgate:error:1';

export type Condition =
  | 'bad-request' | 'conflict' | 'feature-not-implemented' | 'forbidden' | 'internal-server-error'
  | 'item-not-found' | 'not-acceptable' | 'not-allowed' | 'not-authorized' | 'policy-violation'
  | 'recipient-unavailable' | 'remote-server-timeout' | 'resource-constraint' | 'service-unavailable'
  | 'undefined-condition' | 'unexpected-request';

export type ErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** The error type RFC 6120 suggests for each condition. */
const DEFAULT_TYPE: Record<Condition, ErrorType> = {
  'bad-request': 'modify', conflict: 'cancel', 'feature-not-implemented': 'cancel', forbidden: 'auth',
  'internal-server-error': 'cancel', 'item-not-found': 'cancel', 'not-acceptable': 'modify', 'not-allowed': 'cancel',
  'not-authorized': 'auth', 'policy-violation': 'modify', 'recipient-unavailable': 'wait',
  'remote-server-timeout': 'wait', 'resource-constraint': 'wait', 'service-unavailable': 'cancel',
  'undefined-condition': 'cancel', 'unexpected-request': 'wait',
};

/**
 * Application conditions used across cloudgate. Stable names: clients switch on them.
 * quota-exceeded, capacity, not-in-acl, cloud-refused, invalid-field, unknown-payload,
 * timeout, unauthorized-sender, passphrase, not-found, busy, stopped.
 */
export type AppCondition = string;

export class StanzaError extends CloudgateError {
  readonly type: ErrorType;
  constructor(
    readonly condition: Condition,
    message: string,
    readonly app?: AppCondition,
    type?: ErrorType,
    options?: ErrorOptions,
  ) {
    super(`CG_STANZA_${(app ?? condition).toUpperCase().replace(/-/g, '_')}`, message, options);
    this.type = type ?? DEFAULT_TYPE[condition] ?? 'cancel';
  }

  toElement(): Element {
    const el = new Element('error', { type: this.type });
    el.c(this.condition, { xmlns: NS_STANZAS });
    if (this.message) el.c('text', { xmlns: NS_STANZAS }).t(this.message);
    if (this.app) el.c(this.app, { xmlns: NS_ERROR });
    return el;
  }

  static fromElement(error: Element | undefined): StanzaError {
    if (!error) return new StanzaError('undefined-condition', 'error without an <error/> element');
    let condition: Condition = 'undefined-condition';
    let text = '';
    let app: string | undefined;
    for (const c of error.getChildElements()) {
      const ns = c.attrs.xmlns;
      if (ns === NS_STANZAS) {
        if (c.name === 'text') text = c.getText();
        else condition = c.name as Condition;
      } else if (ns === NS_ERROR) {
        app = c.name;
      }
    }
    return new StanzaError(condition, text || condition, app, (error.attrs.type as ErrorType) ?? undefined);
  }
}

// Short constructors for handlers: `throw forbidden('not in ACL', 'not-in-acl')`.
export const badRequest = (m: string, app = 'invalid-field') => new StanzaError('bad-request', m, app);
export const forbidden = (m: string, app?: string) => new StanzaError('forbidden', m, app);
export const notAuthorized = (m: string, app?: string) => new StanzaError('not-authorized', m, app);
export const notFound = (m: string, app = 'not-found') => new StanzaError('item-not-found', m, app);
export const conflict = (m: string, app?: string) => new StanzaError('conflict', m, app);
export const resourceConstraint = (m: string, app?: string) => new StanzaError('resource-constraint', m, app);
export const serviceUnavailable = (m: string, app?: string) => new StanzaError('service-unavailable', m, app);
export const notAcceptable = (m: string, app?: string) => new StanzaError('not-acceptable', m, app);

/** A request got no answer in time. */
export class TimeoutError extends CloudgateError {
  constructor(message: string) { super('CG_TIMEOUT', message); }
}
