/**
 * The engine side of autoscaling: every autoscale_interval, each unpaused policy of a
 * deployed service gets its instances with their latest heartbeats (kept between ticks
 * and updated by each heartbeat through `heard`: views.ts), and a decision that
 * changes the wanted count is stored like a scale request (the count, a scale job that
 * supersedes an older one, an 'autoscale' event with the reason) for the conductor to
 * carry out: placement with overflow, scale-in by drain. Decisions that change nothing
 * are kept for `status` only, never logged.
 */
import type { Logger } from '../../../core/index.js';
import type { ClusterDef, Deployment, GatewayModel } from '../model/index.js';
import { decide } from './decide.js';
import type { Decision, DecisionState, Report } from './types.js';
import { forget, heard, slotsOf, type Slot, type View } from './views.js';

export function createScaler(deps: {
  model: GatewayModel;
  /** An instance's latest heartbeat, read when its deployment's instances are read; later ones come through `heard`. */
  report: (instanceId: string) => Report | undefined;
  kick: (deploymentId: string) => void;
  log: Logger;
  intervalMs: number;
  now?: () => number;
}) {
  const { model, log } = deps;
  const now = deps.now ?? Date.now;
  const states = new Map<string, DecisionState>();
  const latest = new Map<string, { at: number; decision: Decision }>();
  const definitions = new Map<string, ClusterDef>();
  const instances = new Map<string, Map<string, Slot>>();
  let seq: number | undefined;
  const views = new Map<string, View>();
  const dirty = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const key = (d: string, s: string) => `${d} ${s}`;

  /**
   * A deployment's active instances, read again only when something about them changed:
   * an event of the deployment (every instance added or moved writes one) or a `touch`
   * (a readiness change that liveness reports), so a tick over quiet deployments reads
   * no instance row.
   */
  const activeOf = (id: string): Map<string, Slot> => {
    const c = instances.get(id);
    if (c && !dirty.has(id)) return c;
    if (c) forget(c, views);
    const byService = slotsOf(model.autoscaleReads.active(id), deps.report, views);
    instances.set(id, byService);
    dirty.delete(id);
    return byService;
  };

  function apply(d: Deployment, service: string, decision: Decision): void {
    model.transaction(() => {
      for (const j of model.jobs.list(d.id)) {
        const same =
          (j.kind === 'scale' || j.kind === 'replace') &&
          (j.request as { service?: string } | null)?.service === service;
        if (same && (j.state === 'queued' || j.state === 'running'))
          model.jobs.transition(j.id, 'cancelled', { error: 'superseded by an autoscaling decision' });
      }
      model.wanted.set(d.id, service, decision.wanted);
      model.jobs.create(d.id, 'scale', { service, count: decision.wanted, from: decision.data.from, autoscale: true });
      model.events.append(d.id, {
        type: 'autoscale',
        message: `${service}: ${decision.reason}`,
        data: { service, ...decision.data },
      });
    });
    log.info({ deployment: d.id, service, from: decision.data.from, to: decision.wanted }, decision.reason);
    dirty.add(d.id);
    deps.kick(d.id);
  }

  /** One decision per unpaused policy of every completed, live deployment; says how many changed the wanted count. */
  function tick(): { decided: number; changed: number } {
    const t = now();
    let decided = 0;
    let changed = 0;
    const seen = new Set<string>();
    const overrides = model.autoscaleReads.overrides();
    const wantedAll = model.autoscaleReads.wanted();
    const live = model.autoscaleReads.live();
    const since = model.autoscaleReads.changedSince(seq);
    seq = since.seq;
    for (const id of since.deployments) dirty.add(id);
    for (const id of live) {
      let def = definitions.get(id);
      if (!def) {
        def = model.deployments.require(id).definition;
        definitions.set(id, def);
      }
      for (const svc of def.services) {
        if (svc.type !== 'scalable') continue;
        const k2 = key(id, svc.name);
        const o = overrides.get(k2);
        const policy = o?.policy ?? svc.autoscale;
        if (!policy || (o ? o.paused : policy.paused)) continue;
        const byService = activeOf(id);
        seen.add(k2);
        const wanted = wantedAll.get(k2) ?? svc.initial;
        const mine = byService.get(svc.name)?.own ?? [];
        const sources =
          policy.source && policy.source !== svc.name ? (byService.get(policy.source)?.all ?? []) : undefined;
        const { decision, state } = decide(
          {
            policy,
            min: svc.min,
            max: svc.max,
            wanted,
            instances: mine,
            ...(sources ? { sources } : {}),
            now: t,
          },
          states.get(k2),
        );
        states.set(k2, state);
        latest.set(k2, { at: t, decision });
        decided++;
        if (decision.changed) {
          changed++;
          apply(model.deployments.require(id), svc.name, decision);
        }
      }
    }
    // Paused, destroyed or finished: a later resume starts with fresh windows.
    for (const k2 of states.keys())
      if (!seen.has(k2)) {
        states.delete(k2);
        latest.delete(k2);
      }
    // A change to a deployment not kept is read with it when it is first needed.
    for (const id of dirty) if (!instances.has(id)) dirty.delete(id);
    const alive = new Set(live);
    for (const [id, c] of instances)
      if (!alive.has(id)) {
        forget(c, views);
        instances.delete(id);
        definitions.delete(id);
      }
    return { decided, changed };
  }

  return {
    tick,
    /** Something about the deployment changed: its instances are read again at the next tick. */
    touch(deploymentId: string): void {
      dirty.add(deploymentId);
    },
    /** An instance's new heartbeat: the next decision for its service reads it. */
    heard(instanceId: string, report: Report): void {
      heard(views, instanceId, report);
    },
    /** The latest decision for a service (changed or not), for status. */
    latest: (deploymentId: string, service: string) => latest.get(key(deploymentId, service)),
    /** Forgets a service's windows (paused, policy replaced). */
    reset(deploymentId: string, service: string): void {
      states.delete(key(deploymentId, service));
      latest.delete(key(deploymentId, service));
    },
    start(): void {
      running = true;
      const loop = () => {
        timer = setTimeout(() => {
          try {
            tick();
          } catch (err) {
            log.error({ err }, 'autoscaling tick failed');
          }
          if (running) loop();
        }, deps.intervalMs);
        timer.unref();
      };
      loop();
    },
    stop(): void {
      running = false;
      clearTimeout(timer);
    },
  };
}

export type Scaler = ReturnType<typeof createScaler>;
