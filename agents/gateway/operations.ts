/**
 * What a user can ask of deployments, shared by the IQ API and the chat commands: each
 * request is checked, then stored with its job in one transaction before anything is
 * done, and the conductor takes it from there. Errors are stanza errors for the caller.
 */
import type { Access } from './access.js';
import type { Conductor } from './conductor.js';
import type { ContextTexts } from './contexts.js';
import type { Deployment, GatewayModel } from './model/index.js';
import { badRequest, conflict, notFound } from '../../protocols/index.js';
import { bareJid } from '../../core/index.js';

export interface DeployRequest { cluster: string; counts?: Record<string, string>; passphrase?: string }

export function createOperations(deps: {
  model: GatewayModel; access: Access; texts: ContextTexts; conductor: Conductor;
  /** Creates the deployment's event node, so the answer names a node the owner can subscribe to. */
  prepareNode: (deploymentId: string, owner: string) => Promise<void>;
  /** Inside a manual scale's transaction (autoscale/control.ts pauses an active policy). */
  onManualScale?: (d: Deployment, service: string, user: string) => void;
}) {
  const { model, access, texts, conductor } = deps;

  /** A deployment the caller may see: their own, or any for an admin (others do not exist for them). */
  const visible = (user: string, id: string): Deployment => {
    const d = model.deployments.get(id);
    if (!d || !access.canManage(user, d.owner)) throw notFound(`deployment '${id}' not found`);
    return d;
  };

  return {
    visible,
    async deploy(user: string, req: DeployRequest): Promise<Deployment> {
      const owner = bareJid(user);
      const rec = model.clusters.get(owner, req.cluster);
      if (!rec) throw notFound(`cluster '${req.cluster}' not found (put its definition first)`);
      const def = rec.definition;
      const counts = new Map<string, number>();
      for (const [name, raw] of Object.entries(req.counts ?? {})) {
        const s = def.services.find((x) => x.name === name);
        if (!s) throw badRequest(`counts: no service '${name}' in cluster '${def.name}'`);
        if (s.type !== 'scalable') throw badRequest(`counts: '${name}' is a fixed service (count ${s.count})`);
        const n = Number(raw);
        if (!/^\d+$/.test(raw) || n < s.min || n > s.max) throw badRequest(`counts: ${name} must be an integer in ${s.min}..${s.max}, got '${raw}'`);
        counts.set(name, n);
      }
      const pinned = await texts.pin(def, owner, req.passphrase);
      const dep = model.transaction(() => {
        const d = model.deployments.create(owner, pinned);
        for (const s of pinned.services) model.wanted.set(d.id, s.name, s.type === 'fixed' ? s.count : counts.get(s.name) ?? s.initial);
        model.jobs.create(d.id, 'deploy', { cluster: def.name, counts: Object.fromEntries(counts) });
        return d;
      });
      await deps.prepareNode(dep.id, owner);
      conductor.kick(dep.id);
      return model.deployments.require(dep.id);
    },

    scale(user: string, req: { deployment: string; service: string; count: number }): Deployment {
      const d = visible(user, req.deployment);
      if (d.destroyedAt !== undefined || d.state === 'failed' || d.state === 'aborted') {
        throw conflict(`deployment '${d.id}' is ${d.destroyedAt !== undefined ? 'destroyed' : d.state}: it cannot be scaled`, 'conflict');
      }
      const s = d.definition.services.find((x) => x.name === req.service);
      if (!s) throw notFound(`no service '${req.service}' in deployment '${d.id}'`);
      if (s.type !== 'scalable') throw badRequest(`'${s.name}' is a fixed service: it does not scale`);
      if (req.count < s.min || req.count > s.max) throw badRequest(`count for '${s.name}' must be in ${s.min}..${s.max}, got ${req.count}`);
      model.transaction(() => {
        // A newer request for the same service replaces an older one still under way.
        for (const j of model.jobs.list(d.id)) {
          const same = (j.kind === 'scale' || j.kind === 'replace') && (j.request as { service?: string } | null)?.service === s.name;
          if (same && (j.state === 'queued' || j.state === 'running')) model.jobs.transition(j.id, 'cancelled', { error: 'superseded by a newer scale request' });
        }
        const before = model.wanted.get(d.id, s.name);
        model.wanted.set(d.id, s.name, req.count);
        model.jobs.create(d.id, 'scale', { service: s.name, count: req.count, from: before });
        model.events.append(d.id, { type: 'scale', message: `${s.name}: ${before ?? '?'} -> ${req.count} requested by ${bareJid(user)}`, data: { service: s.name, from: before, to: req.count } });
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
          if (j.state === 'queued' || j.state === 'running') model.jobs.transition(j.id, 'cancelled', { error: 'deployment destroyed' });
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
      return access.isAdmin(user) ? model.deployments.list() : model.deployments.list({ owner: bareJid(user) });
    },
  };
}

export type Operations = ReturnType<typeof createOperations>;
