/**
 * The engine side of autoscaling: every autoscale_interval, each unpaused policy of a
 * deployed service gets its instances with their latest heartbeats, and a decision that
 * changes the wanted count is stored like a scale request (the count, a scale job that
 * supersedes an older one, an 'autoscale' event with the reason) for the conductor to
 * carry out: placement with overflow, scale-in by drain. Decisions that change nothing
 * are kept for `status` only, never logged.
 */
import type { Logger } from '../../../core/index.js';
import type { Deployment, GatewayModel, Instance } from '../model/index.js';
import { decide } from './decide.js';
import type { Decision, DecisionState, Report, ScaledInstance } from './types.js';

const ACTIVE = new Set(['requested', 'booting', 'running']);

export function createScaler(deps: {
  model: GatewayModel; report: (instanceId: string) => Report | undefined; kick: (deploymentId: string) => void;
  log: Logger; intervalMs: number; now?: () => number;
}) {
  const { model, log } = deps;
  const now = deps.now ?? Date.now;
  const states = new Map<string, DecisionState>();
  const latest = new Map<string, { at: number; decision: Decision }>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const key = (d: string, s: string) => `${d} ${s}`;

  const view = (i: Instance): ScaledInstance => {
    const r = deps.report(i.id);
    return { id: i.id, createdAt: i.createdAt, ready: i.ready, ...(r ? { report: r } : {}) };
  };

  function apply(d: Deployment, service: string, decision: Decision): void {
    model.transaction(() => {
      for (const j of model.jobs.list(d.id)) {
        const same = (j.kind === 'scale' || j.kind === 'replace') && (j.request as { service?: string } | null)?.service === service;
        if (same && (j.state === 'queued' || j.state === 'running')) model.jobs.transition(j.id, 'cancelled', { error: 'superseded by an autoscaling decision' });
      }
      model.wanted.set(d.id, service, decision.wanted);
      model.jobs.create(d.id, 'scale', { service, count: decision.wanted, from: decision.data.from, autoscale: true });
      model.events.append(d.id, { type: 'autoscale', message: `${service}: ${decision.reason}`, data: { service, ...decision.data } });
    });
    log.info({ deployment: d.id, service, from: decision.data.from, to: decision.wanted }, decision.reason);
    deps.kick(d.id);
  }

  /** One decision per unpaused policy of every deployed, live deployment; returns how many changed. */
  function tick(): { decided: number; changed: number } {
    const t = now();
    let decided = 0;
    let changed = 0;
    const seen = new Set<string>();
    for (const d of model.deployments.list({ states: ['completed'] })) {
      if (d.destroyedAt !== undefined) continue;
      const settings = model.autoscale.list(d).filter((s) => !s.paused);
      if (!settings.length || model.jobs.list(d.id).some((j) => j.kind === 'deploy' && (j.state === 'queued' || j.state === 'running'))) continue;
      const bySvc = new Map<string, Instance[]>();
      for (const i of model.instances.list(d.id)) {
        if (!ACTIVE.has(i.state)) continue;
        bySvc.set(i.service, [...(bySvc.get(i.service) ?? []), i]);
      }
      for (const s of settings) {
        const svc = d.definition.services.find((x) => x.name === s.service);
        if (svc?.type !== 'scalable' || !s.policy) continue;
        const k = key(d.id, s.service);
        seen.add(k);
        const wanted = model.wanted.get(d.id, s.service) ?? svc.initial;
        const mine = (bySvc.get(s.service) ?? []).filter((i) => !i.replica).map(view);
        const sources = s.policy.source && s.policy.source !== s.service ? (bySvc.get(s.policy.source) ?? []).map(view) : undefined;
        const { decision, state } = decide({
          policy: s.policy, min: svc.min, max: svc.max, wanted, instances: mine, ...(sources ? { sources } : {}), now: t,
        }, states.get(k));
        states.set(k, state);
        latest.set(k, { at: t, decision });
        decided++;
        if (decision.changed) { changed++; apply(d, s.service, decision); }
      }
    }
    // Paused, destroyed or finished: a later resume starts with fresh windows.
    for (const k of states.keys()) if (!seen.has(k)) { states.delete(k); latest.delete(k); }
    return { decided, changed };
  }

  return {
    tick,
    /** The latest decision for a service (changed or not), for status. */
    latest: (deploymentId: string, service: string) => latest.get(key(deploymentId, service)),
    /** Forgets a service's windows (paused, policy replaced). */
    reset(deploymentId: string, service: string): void { states.delete(key(deploymentId, service)); latest.delete(key(deploymentId, service)); },
    start(): void {
      running = true;
      const loop = () => {
        timer = setTimeout(() => {
          try { tick(); } catch (err) { log.error({ err }, 'autoscaling tick failed'); }
          if (running) loop();
        }, deps.intervalMs);
        timer.unref();
      };
      loop();
    },
    stop(): void { running = false; clearTimeout(timer); },
  };
}

export type Scaler = ReturnType<typeof createScaler>;
