// The public face of protocols/: schema building blocks, definitions and wire errors.
export {
  str,
  int,
  num,
  bool,
  jid,
  text,
  json,
  oneOf,
  optional,
  object,
  list,
  record,
  intRecord,
  FieldError,
  type Codec,
  type Infer,
  type ObjectOf,
} from './schema.js';
export {
  defineRequest,
  defineMessage,
  defineEvent,
  definePresence,
  type RequestDef,
  type MessageDef,
  type EventDef,
  type PresenceDef,
  type PayloadDef,
  type RequestOf,
  type ResponseOf,
} from './define.js';
export {
  StanzaError,
  TimeoutError,
  badRequest,
  forbidden,
  notAuthorized,
  notFound,
  conflict,
  resourceConstraint,
  serviceUnavailable,
  notAcceptable,
  NS_ERROR,
  NS_STANZAS,
  type Condition,
  type AppCondition,
  type ErrorType,
} from './errors.js';
export {
  INSTANCE_NAME_MAX,
  INSTANCE_NAME_PATTERN,
  SERVICE_NAME_MAX,
  DEPLOYMENT_ID_MAX,
  INSTANCE_NUMBER_DIGITS,
  instanceNameProblem,
  serviceNameProblem,
} from './names.js';
export * as cloud from './cloud.js';
export * as instance from './instance.js';
export * as gateway from './gateway.js';
export * as chat from './chat.js';
export * as flow from './flow.js';
export * as presence from './presence.js';
