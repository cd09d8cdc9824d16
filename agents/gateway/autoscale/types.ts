/**
 * What the autoscaling decision sees and says. It is a pure function of these: the
 * policy, the service's instances with their latest reports, the clock, and the state it
 * carried over from its previous decision for the same service.
 */
import type { AutoscalePolicy } from '../model/index.js';

/** An instance's latest heartbeat: metric values (built-in and custom) and its busy flag. */
export interface Report {
  readonly at: number;
  readonly values: Readonly<Record<string, number>>;
  readonly busy: boolean;
}

export interface ScaledInstance {
  readonly id: string;
  readonly createdAt: number;
  readonly ready: boolean;
  /** Absent until its agent reported: such an instance counts as booting, never idle. */
  readonly report?: Report;
}

export interface DecisionInput {
  readonly policy: AutoscalePolicy;
  readonly min: number;
  readonly max: number;
  /** The service's wanted count now. */
  readonly wanted: number;
  /** Its active instances (requested, booting, running). */
  readonly instances: readonly ScaledInstance[];
  /** The instances of the policy's `source` service, when the metric comes from another service. */
  readonly sources?: readonly ScaledInstance[];
  readonly now: number;
}

/** Carried from one decision to the next for the same service. */
export interface DecisionState {
  /** When the first decision was made: no scale-down before a full down window of recommendations. */
  readonly since: number;
  /** Recommendations (before bounds) within the longer stabilization window. */
  readonly history: ReadonlyArray<{ readonly at: number; readonly wanted: number }>;
  /** Since when the queue has had waiting work (queue policy). */
  readonly waitingSince?: number;
  /** Since when each instance has reported itself idle (queue policy). */
  readonly idleSince: Readonly<Record<string, number>>;
}

export interface Decision {
  /** The wanted count to set (equal to the input's when nothing changes). */
  readonly wanted: number;
  readonly changed: boolean;
  /** Why: the metric values, the formula's numbers, the bound or window that limited it. */
  readonly reason: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A policy's raw recommendation, before windows, steps and bounds. */
export interface Recommendation {
  /** Undefined: hold (no usable metric). */
  readonly wanted?: number;
  readonly reason: string;
  readonly data: Record<string, unknown>;
  readonly waitingSince?: number;
  readonly idleSince?: Record<string, number>;
}
