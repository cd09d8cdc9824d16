// The public face of protocols/: schema building blocks, definitions and wire errors.
export { str, int, num, bool, jid, text, json, oneOf, optional, object, list, record, intRecord, FieldError, type Codec, type Infer, type ObjectOf } from './schema.js';
export { defineRequest, defineMessage, defineEvent, definePresence, type RequestDef, type MessageDef, type EventDef, type PresenceDef, type PayloadDef, type RequestOf, type ResponseOf } from './define.js';
export { StanzaError, TimeoutError, badRequest, forbidden, notAuthorized, notFound, conflict, resourceConstraint, serviceUnavailable, notAcceptable, NS_ERROR, NS_STANZAS, type Condition, type ErrorType } from './errors.js';
export * as cloud from './cloud.js';
export * as instance from './instance.js';
export * as gateway from './gateway.js';
