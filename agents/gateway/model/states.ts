/**
 * Lifecycle state machines of deployments, instances and jobs. Each maps a state to the
 * states it may move to; anything else is an IllegalTransitionError, so a late or
 * duplicated message (at-least-once delivery) cannot drag a finished thing back to life.
 */
import { IllegalTransitionError } from './errors.js';

export const DEPLOYMENT_STATES = {
  pending: ['running', 'failed', 'aborted'],
  running: ['completed', 'failed', 'aborted'],
  completed: [],
  failed: [],
  aborted: [],
} as const satisfies Record<string, readonly string[]>;

/**
 * requested: asked of a cloud agent; booting: the cloud gave an id; running: its instance
 * agent is online; draining: taking no new work before removal. A failed instance may
 * still exist at the cloud, so it can still be terminated.
 */
export const INSTANCE_STATES = {
  requested: ['booting', 'failed', 'terminating'],
  booting: ['running', 'failed', 'terminating'],
  running: ['draining', 'terminating', 'failed'],
  draining: ['running', 'terminating', 'failed'],
  terminating: ['terminated', 'failed'],
  failed: ['terminating'],
  terminated: [],
} as const satisfies Record<string, readonly string[]>;

export const JOB_STATES = {
  queued: ['running', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
} as const satisfies Record<string, readonly string[]>;

export type DeploymentState = keyof typeof DEPLOYMENT_STATES;
export type InstanceState = keyof typeof INSTANCE_STATES;
export type JobState = keyof typeof JOB_STATES;

export type Machine = Readonly<Record<string, readonly string[]>>;

export function canTransition(machine: Machine, from: string, to: string): boolean {
  return machine[from]?.includes(to) ?? false;
}

export function isTerminal(machine: Machine, state: string): boolean {
  return (machine[state]?.length ?? 0) === 0;
}

export function assertTransition(machine: Machine, entity: string, id: string, from: string, to: string): void {
  if (!canTransition(machine, from, to)) throw new IllegalTransitionError(entity, id, from, to);
}
