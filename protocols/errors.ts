/**
 * Errors that cross the wire: an RFC 6120 §8.3 stanza error with a defined condition,
 * plus an application condition in urn:cloudgate:error:1 so programs branch on it. The
 * conditions and their CG_* codes are registered in errors/ (docs/errors.md lists them).
 * (After xmpp.js packages/error: toElement/fromElement.)
 */
import { Element } from 'ltx';
import {
  CloudgateError,
  CONDITIONS,
  APP_CONDITIONS,
  isCondition,
  isAppCondition,
  type Condition,
  type AppCondition,
  type ErrorType,
} from '../errors/index.js';

export type { Condition, AppCondition, ErrorType };

export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const NS_ERROR = 'urn:cloudgate:error:1';

export class StanzaError extends CloudgateError {
  readonly type: ErrorType;
  constructor(
    readonly condition: Condition,
    message: string,
    readonly app?: AppCondition,
    type?: ErrorType,
    options?: ErrorOptions,
  ) {
    super(app ? APP_CONDITIONS[app].code : CONDITIONS[condition].code, message, options);
    this.type = type ?? CONDITIONS[condition].type;
  }

  toElement(): Element {
    const el = new Element('error', { type: this.type });
    el.c(this.condition, { xmlns: NS_STANZAS });
    if (this.message) el.c('text', { xmlns: NS_STANZAS }).t(this.message);
    if (this.app) el.c(this.app, { xmlns: NS_ERROR });
    return el;
  }

  /**
   * Reads a stanza error as a peer or the server sent it. A condition or application
   * condition this version does not know reads as undefined-condition or no application
   * condition, so `code` is always a registered one; the text is kept.
   */
  static fromElement(error: Element | undefined): StanzaError {
    if (!error) return new StanzaError('undefined-condition', 'error without an <error/> element');
    let condition: Condition = 'undefined-condition';
    let text = '';
    let app: AppCondition | undefined;
    for (const c of error.getChildElements()) {
      const ns = c.attrs.xmlns;
      if (ns === NS_STANZAS) {
        if (c.name === 'text') text = c.getText();
        else if (isCondition(c.name)) condition = c.name;
      } else if (ns === NS_ERROR && isAppCondition(c.name)) {
        app = c.name;
      }
    }
    const type = ERROR_TYPES.has(String(error.attrs.type)) ? (error.attrs.type as ErrorType) : undefined;
    return new StanzaError(condition, text || condition, app, type);
  }
}

const ERROR_TYPES = new Set<string>(['auth', 'cancel', 'continue', 'modify', 'wait']);

// Short constructors for handlers: `throw forbidden('not in ACL', 'not-in-acl')`.
export const badRequest = (m: string, app: AppCondition = 'invalid-field') => new StanzaError('bad-request', m, app);
export const forbidden = (m: string, app?: AppCondition) => new StanzaError('forbidden', m, app);
export const notAuthorized = (m: string, app?: AppCondition) => new StanzaError('not-authorized', m, app);
export const notFound = (m: string, app: AppCondition = 'not-found') => new StanzaError('item-not-found', m, app);
export const conflict = (m: string, app?: AppCondition) => new StanzaError('conflict', m, app);
export const resourceConstraint = (m: string, app?: AppCondition) => new StanzaError('resource-constraint', m, app);
export const serviceUnavailable = (m: string, app?: AppCondition) => new StanzaError('service-unavailable', m, app);
export const notAcceptable = (m: string, app?: AppCondition) => new StanzaError('not-acceptable', m, app);

/** A request got no answer in time. */
export class TimeoutError extends CloudgateError {
  constructor(message: string) {
    super('CG_TIMEOUT', message);
  }
}
