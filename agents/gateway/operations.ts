/**
 * What a user can ask of deployments, the same for every front (IQ, chat, HTTP): the
 * caller is authorized here, each request is checked, then stored with its job in one
 * transaction before anything is done, and the conductor takes it from there. Errors are
 * the model's typed errors (CG_* codes); each front translates them for its wire.
 */
import type { Access } from './access.js';
import type { Conductor } from './conductor.js';
import type { ContextTexts } from './contexts.js';
import {
  ConflictError,
  InvalidError,
  NotFoundError,
  type Deployment,
  type DeploymentEvent,
  type GatewayModel,
  type Job,
} from './model/index.js';
import { bareJid } from '../../core/index.js';

/** `counts`: initial count per scalable service, integers (each front parses its own text). */
export interface DeployRequest {
  cluster: string;
  counts?: Readonly<Record<string, number>>;
  passphrase?: string;
}
export interface ScaleRequest {
  deployment: string;
  service: string;
  count: number;
}

/** A deployment the caller may see: their own, or any for an admin (others do not exist for them). */
export function visibleDeployment(deps: {
  model: GatewayModel;
  access: Access;
}): (user: string, id: string) => Deployment {
  const { model, access } = deps;
  return (user, id) => {
    access.requireUser(user);
    const d = model.deployments.get(id);
    if (!d || !access.canManage(user, d.owner)) throw new NotFoundError('deployment', id);
    return d;
  };
}

export function createOperations(deps: {
  model: GatewayModel;
  access: Access;
  texts: ContextTexts;
  conductor: Conductor;
  visible: (user: string, id: string) => Deployment;
  /** Creates the deployment's event node, so the answer names a node the owner can subscribe to. */
  prepareNode: (deploymentId: string, owner: string) => Promise<void>;
  /** Inside a manual scale's transaction (autoscale/control.ts pauses an active policy). */
  onManualScale?: (d: Deployment, service: string, user: string) => void;
}) {
  const { model, access, texts, conductor, visible } = deps;

  return {
    visible,
    async deploy(user: string, req: DeployRequest): Promise<Deployment> {
      const owner = access.requireUser(user).jid;
      const rec = model.clusters.get(owner, req.cluster);
      if (!rec) throw new NotFoundError('cluster', req.cluster);
      const def = rec.definition;
      const counts = new Map<string, number>();
      for (const [name, n] of Object.entries(req.counts ?? {})) {
        const s = def.services.find((x) => x.name === name);
        if (!s) throw new InvalidError(`counts: no service '${name}' in cluster '${def.name}'`, `counts.${name}`);
        if (s.type !== 'scalable')
          throw new InvalidError(`counts: '${name}' is a fixed service (count ${s.count})`, `counts.${name}`);
        if (!Number.isSafeInteger(n) || n < s.min || n > s.max)
          throw new InvalidError(
            `counts: ${name} must be an integer in ${s.min}..${s.max}, got ${n}`,
            `counts.${name}`,
          );
        counts.set(name, n);
      }
      const pinned = await texts.pin(def, owner, req.passphrase);
      const dep = model.transaction(() => {
        const d = model.deployments.create(owner, pinned);
        for (const s of pinned.services)
          model.wanted.set(d.id, s.name, s.type === 'fixed' ? s.count : (counts.get(s.name) ?? s.initial));
        model.jobs.create(d.id, 'deploy', { cluster: def.name, counts: Object.fromEntries(counts) });
        return d;
      });
      await deps.prepareNode(dep.id, owner);
      conductor.kick(dep.id);
      return model.deployments.require(dep.id);
    },

    scale(user: string, req: ScaleRequest): Deployment {
      const d = visible(user, req.deployment);
      if (d.destroyedAt !== undefined || d.state === 'failed' || d.state === 'aborted') {
        throw new ConflictError(
          `deployment '${d.id}' is ${d.destroyedAt !== undefined ? 'destroyed' : d.state}: it cannot be scaled`,
        );
      }
      const s = d.definition.services.find((x) => x.name === req.service);
      if (!s) throw new NotFoundError(`deployment '${d.id}' service`, req.service);
      if (s.type !== 'scalable') throw new InvalidError(`'${s.name}' is a fixed service: it does not scale`, 'service');
      if (!Number.isSafeInteger(req.count) || req.count < s.min || req.count > s.max) {
        throw new InvalidError(
          `count for '${s.name}' must be an integer in ${s.min}..${s.max}, got ${req.count}`,
          'count',
        );
      }
      model.transaction(() => {
        // A newer request for the same service replaces an older one still under way.
        for (const j of model.jobs.list(d.id)) {
          const same =
            (j.kind === 'scale' || j.kind === 'replace') &&
            (j.request as { service?: string } | null)?.service === s.name;
          if (same && (j.state === 'queued' || j.state === 'running'))
            model.jobs.transition(j.id, 'cancelled', { error: 'superseded by a newer scale request' });
        }
        const before = model.wanted.get(d.id, s.name);
        model.wanted.set(d.id, s.name, req.count);
        model.jobs.create(d.id, 'scale', { service: s.name, count: req.count, from: before });
        model.events.append(d.id, {
          type: 'scale',
          message: `${s.name}: ${before ?? '?'} -> ${req.count} requested by ${bareJid(user)}`,
          data: { service: s.name, from: before, to: req.count },
        });
        deps.onManualScale?.(d, s.name, user);
      });
      conductor.kick(d.id);
      return model.deployments.require(d.id);
    },

    destroy(user: string, req: { deployment: string }): Deployment {
      const d = visible(user, req.deployment);
      if (d.destroyedAt !== undefined) return d;
      model.transaction(() => {
        for (const j of model.jobs.list(d.id)) {
          if (j.state === 'queued' || j.state === 'running')
            model.jobs.transition(j.id, 'cancelled', { error: 'deployment destroyed' });
        }
        model.deployments.markDestroyed(d.id);
        for (const s of d.definition.services) model.wanted.set(d.id, s.name, 0);
        model.jobs.create(d.id, 'destroy', { by: bareJid(user) });
        model.events.append(d.id, { type: 'destroy', message: `destroy requested by ${bareJid(user)}` });
      });
      conductor.kick(d.id);
      return model.deployments.require(d.id);
    },

    status(user: string, id?: string): Deployment[] {
      if (id !== undefined) return [visible(user, id)];
      access.requireUser(user);
      return access.isAdmin(user) ? model.deployments.list() : model.deployments.list({ owner: bareJid(user) });
    },

    /** One deployment the caller may see (NotFoundError for any other, whoever owns it). */
    get: (user: string, id: string): Deployment => visible(user, id),

    /** The deployment's events after `afterSeq` (its sequence numbers only grow), oldest first. */
    events(user: string, id: string, o: { afterSeq?: number; limit?: number } = {}): DeploymentEvent[] {
      visible(user, id);
      return model.events.list(id, o);
    },

    /** The deployment's jobs (deploy, scale, replace, destroy), oldest first. */
    jobs(user: string, id: string): Job[] {
      visible(user, id);
      return model.jobs.list(id);
    },

    /** Whether `user` may see events of `deploymentId` (for streams that filter live events). */
    canSee(user: string, deploymentId: string): boolean {
      const d = model.deployments.get(deploymentId);
      return !!d && access.mayUse(user) && access.canManage(user, d.owner);
    },
  };
}

export type Operations = ReturnType<typeof createOperations>;
