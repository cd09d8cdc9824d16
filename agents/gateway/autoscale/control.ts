/**
 * What users do with autoscaling, shared by every front (chat, typed IQ, CLI): show the
 * policies of a deployment, pause and resume one, replace one (the body of an
 * `[autoscale.<service>]` section). A manual scale of a service whose policy is active
 * pauses the policy (the owner's count would otherwise be undone at the next decision);
 * `resume` hands the service back. Each change is an event of the deployment.
 */
import { bareJid } from '../../../core/index.js';
import {
  ConflictError,
  InvalidError,
  NotFoundError,
  parsePolicy,
  type AutoscalePolicy,
  type Deployment,
  type GatewayModel,
  type ScalableService,
} from '../model/index.js';
import { fmt } from './metrics.js';
import type { Scaler } from './scaler.js';

export interface AutoscaleView {
  service: string;
  policy: string;
  paused: boolean;
  note?: string;
  /** The latest decision's reason, when one was made since the gateway started. */
  last?: string;
}

const secs = (ms: number) => `${fmt(ms / 1000)} s`;

export function describePolicy(p: AutoscalePolicy): string {
  const main =
    p.type === 'target'
      ? `target: ${p.metric} ${p.aggregate === 'total' ? 'total' : 'average'} at ${fmt(p.target)}${p.aggregate === 'total' ? ' per instance' : ''} (±${fmt(p.tolerance * 100)}%)`
      : `queue: ${p.metric}, ${fmt(p.perInstance)} per instance, delay ${secs(p.delayMs)}, warm-up ${secs(p.warmupMs)}, idle ${secs(p.idleMs)}${p.busyMetric ? `, busy when ${p.busyMetric} > 0` : ''}`;
  return `${main}${p.source ? ` from ${p.source}` : ''}; steps +${p.maxStepUp}/-${p.maxStepDown}, windows up ${secs(p.upWindowMs)} / down ${secs(p.downWindowMs)}`;
}

export function createAutoscaleControl(deps: {
  model: GatewayModel;
  scaler: Scaler;
  visible: (user: string, deploymentId: string) => Deployment;
}) {
  const { model, scaler } = deps;

  const views = (d: Deployment): AutoscaleView[] =>
    model.autoscale.list(d).map((s) => {
      const last = scaler.latest(d.id, s.service);
      return {
        service: s.service,
        policy: describePolicy(s.policy!),
        paused: s.paused,
        ...(s.note ? { note: s.note } : {}),
        ...(last ? { last: last.decision.reason } : {}),
      };
    });

  /** A live deployment's scalable service, checked for the caller. */
  const target = (user: string, deployment: string, service: string): { d: Deployment; svc: ScalableService } => {
    const d = deps.visible(user, deployment);
    if (d.destroyedAt !== undefined || d.state === 'failed' || d.state === 'aborted') {
      throw new ConflictError(
        `deployment '${d.id}' is ${d.destroyedAt !== undefined ? 'destroyed' : d.state}: autoscaling does not apply`,
      );
    }
    const svc = d.definition.services.find((x) => x.name === service);
    if (!svc) throw new NotFoundError(`service of ${d.id}`, service);
    if (svc.type !== 'scalable')
      throw new InvalidError(`'${service}' is a fixed service: it does not scale`, 'service');
    return { d, svc };
  };

  const setPaused = (user: string, deployment: string, service: string, paused: boolean): AutoscaleView => {
    const { d } = target(user, deployment, service);
    const cur = model.autoscale.setting(d, service);
    if (!cur.policy) throw new NotFoundError(`autoscaling policy (set one first) of ${d.id} service`, service);
    const who = bareJid(user);
    if (cur.paused !== paused) {
      model.transaction(() => {
        model.autoscale.setPaused(d.id, service, paused, `${paused ? 'paused' : 'resumed'} by ${who}`);
        model.events.append(d.id, {
          type: 'autoscale',
          message: `${service}: autoscaling ${paused ? 'paused' : 'resumed'} by ${who}`,
          data: { service, paused },
        });
      });
      scaler.reset(d.id, service);
    }
    return views(d).find((v) => v.service === service)!;
  };

  return {
    show: (user: string, deployment: string): AutoscaleView[] => views(deps.visible(user, deployment)),
    pause: (user: string, deployment: string, service: string) => setPaused(user, deployment, service, true),
    resume: (user: string, deployment: string, service: string) => setPaused(user, deployment, service, false),
    /** Replaces a service's policy with one written as `key = value` lines. */
    set(user: string, deployment: string, service: string, body: string): AutoscaleView {
      const { d } = target(user, deployment, service);
      const policy = parsePolicy(service, body, new Map(d.definition.services.map((s) => [s.name, s.type])));
      const who = bareJid(user);
      model.transaction(() => {
        model.autoscale.setPolicy(d.id, service, policy, `policy set by ${who}`);
        model.events.append(d.id, {
          type: 'autoscale',
          message: `${service}: autoscaling policy set by ${who}: ${describePolicy(policy)}${policy.paused ? ' (paused)' : ''}`,
          data: { service, policy },
        });
      });
      scaler.reset(d.id, service);
      return views(d).find((v) => v.service === service)!;
    },
    /**
     * Called inside a manual scale's transaction: an active policy is paused, so the
     * owner's count stands; returns a note for the reply, or undefined.
     */
    pauseForManualScale(d: Deployment, service: string, user: string): string | undefined {
      const cur = model.autoscale.setting(d, service);
      if (!cur.policy || cur.paused) return undefined;
      const note = `autoscaling of ${service} paused by a manual scale from ${bareJid(user)} ('autoscale ${d.id} ${service} resume' hands it back)`;
      model.autoscale.setPaused(d.id, service, true, note);
      model.events.append(d.id, { type: 'autoscale', message: note, data: { service, paused: true } });
      scaler.reset(d.id, service);
      return note;
    },
  };
}

export type AutoscaleControl = ReturnType<typeof createAutoscaleControl>;
/** What users do (the service layer's part; pauseForManualScale is the engine's). */
export type AutoscaleUseCases = Pick<AutoscaleControl, 'show' | 'pause' | 'resume' | 'set'>;
