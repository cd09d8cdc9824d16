/**
 * Autoscaling: the pure decision (decide.ts, with the target and queue policies) and the
 * engine part that feeds it reports and applies what it decides (scaler.ts).
 */
export { decide } from './decide.js';
export type { Decision, DecisionInput, DecisionState, Report, ScaledInstance } from './types.js';
export { createScaler, type Scaler } from './scaler.js';
export {
  createAutoscaleControl,
  describePolicy,
  type AutoscaleControl,
  type AutoscaleUseCases,
  type AutoscaleView,
} from './control.js';
export { autoscaleChatCommand, autoscaleRequest, formatViews, statusLines, type AutoscaleAction } from './fronts.js';
