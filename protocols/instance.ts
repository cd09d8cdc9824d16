/**
 * urn:cloudgate:instance:1 — an instance agent (inside a VM) and those allowed to
 * command it (its context's `allow` list: the gateway, the owner).
 */
import { defineRequest, defineMessage, definePresence } from './define.js';
import { object, str, int, num, bool, text, json, optional, oneOf, record } from './schema.js';

export const NS_INSTANCE = 'urn:cloudgate:instance:1';

export const INSTANCE_PHASES = ['booting', 'contextualizing', 'ready', 'draining', 'drained', 'failed'] as const;
export type InstancePhase = (typeof INSTANCE_PHASES)[number];

export const InstancePresence = definePresence(
  NS_INSTANCE,
  'instance',
  object({
    instance_id: str({ max: 256 }),
    deployment: optional(str({ max: 128 })),
    service: optional(str({ max: 128 })),
    context_version: int({ min: 0 }),
    phase: oneOf(INSTANCE_PHASES),
    ready: bool(),
    busy: optional(bool()),
  }),
);

/** Periodic heartbeat with metrics, one-way to the gateway. */
export const Heartbeat = defineMessage(
  NS_INSTANCE,
  'heartbeat',
  object({
    instance_id: str({ max: 256 }),
    deployment: optional(str({ max: 128 })),
    service: optional(str({ max: 128 })),
    seq: int({ min: 0 }),
    phase: oneOf(INSTANCE_PHASES),
    context_version: int({ min: 0 }),
    load1: num(),
    mem_used_pct: num(),
    disk_used_pct: num(),
    busy: bool(),
    /** Values scripts emitted (name → number as text). */
    custom: optional(record({ max: 100 })),
    at: str({ max: 40 }),
  }),
);

/** Per-plugin results after (re)contextualization, reliably to the gateway. */
export const ContextReport = defineMessage(
  NS_INSTANCE,
  'context-report',
  object({
    instance_id: str({ max: 256 }),
    deployment: optional(str({ max: 128 })),
    service: optional(str({ max: 128 })),
    version: int({ min: 0 }),
    ok: bool(),
    results: json<unknown[]>({ max: 256 * 1024 }),
    at: str({ max: 40 }),
  }),
);

export const RunScript = defineRequest(NS_INSTANCE, 'run', {
  request: object({ script: text({ max: 256 * 1024 }), timeout_s: optional(int({ min: 1, max: 86400 })) }),
  response: object({ exit_code: int(), stdout: text({ max: 1024 * 1024 }), stderr: text({ max: 1024 * 1024 }) }),
  timeoutMs: 600000,
});

export const Recontextualize = defineRequest(NS_INSTANCE, 'recontextualize', {
  request: object({ context: text({ max: 256 * 1024 }), version: int({ min: 1 }) }),
  response: object({ version: int({ min: 0 }), ok: bool(), results: json<unknown[]>({ max: 256 * 1024 }) }),
  timeoutMs: 600000,
});

/** Stop taking work; the answer says whether it is idle already. */
export const Drain = defineRequest(NS_INSTANCE, 'drain', {
  request: object({}),
  response: object({ idle: bool() }),
});

export const Shutdown = defineRequest(NS_INSTANCE, 'shutdown', {
  request: object({ reason: optional(str({ max: 1024 })) }),
  response: object({}),
});

export const InstanceStatus = defineRequest(NS_INSTANCE, 'status', {
  iqType: 'get',
  request: object({}),
  response: object({
    instance_id: str({ max: 256 }),
    phase: oneOf(INSTANCE_PHASES),
    context_version: int({ min: 0 }),
    busy: bool(),
    uptime_s: int({ min: 0 }),
    allowed: optional(str({ max: 4096 })),
  }),
});
