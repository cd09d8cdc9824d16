// The public face of errors/: the base error class, the registry of CG_* codes and the
// wire conditions. It imports nothing of the project, so every folder may use it.
export { CloudgateError } from './base.js';
export { CODES, isCode, type Code, type CodeInfo } from './codes.js';
export {
  CONDITIONS,
  APP_CONDITIONS,
  APP_CONDITION_NAMES,
  isCondition,
  isAppCondition,
  type Condition,
  type AppCondition,
  type ErrorType,
} from './conditions.js';
