/** What the API and chat show of the gateway's state: protocol views built from the model. */
import { summarize } from './desired.js';
import type { Clouds } from './clouds.js';
import type { ClusterRecord, ContextInfo, Deployment, GatewayModel, Instance } from './model/index.js';
import { nodeOf } from './publisher.js';
import type { MarketEntry } from './market.js';
import type { CloudView, ClusterView, ContextView, DeploymentView, MarketEntryView } from './wire.js';

/** For a deployment a destroy was asked of: 'destroying' until every instance is terminated. */
export function destroyStage(dep: Deployment, instances: readonly Instance[]): 'destroying' | 'destroyed' | undefined {
  if (dep.destroyedAt === undefined) return undefined;
  return instances.every((i) => i.state === 'terminated') ? 'destroyed' : 'destroying';
}

export function deploymentView(model: GatewayModel, dep: Deployment): DeploymentView {
  const all = model.instances.list(dep.id);
  // A live deployment shows what exists; an ended one also shows what it had.
  const ended = dep.destroyedAt !== undefined || dep.state === 'failed' || dep.state === 'aborted';
  const shown = ended ? all : all.filter((i) => i.state !== 'terminated');
  return {
    id: dep.id,
    cluster: dep.cluster,
    owner: dep.owner,
    state: dep.state,
    created: new Date(dep.createdAt).toISOString(),
    updated: new Date(Math.max(dep.updatedAt, ...all.map((i) => i.updatedAt))).toISOString(),
    node: nodeOf(dep.id),
    destroyed: destroyStage(dep, all),
    services: summarize(dep.definition, model.wanted.all(dep.id), all).map((s) => ({
      name: s.name,
      type: s.type,
      wanted: s.wanted,
      ready: s.ready,
    })),
    instances: shown.map((i) => ({
      name: i.name,
      service: i.service,
      cloud: i.cloud,
      state: i.state,
      ready: i.ready,
      context_version: i.context?.version ?? 0,
      cloud_instance_id: i.cloudInstanceId,
      reason: i.reason,
    })),
  };
}

export function contextView(model: GatewayModel, c: ContextInfo): ContextView {
  const v = model.contexts.versions(c.id);
  const latest = v[v.length - 1];
  const parent = v[0]?.parent?.contextId;
  return {
    id: c.id,
    name: c.name,
    owner: c.owner,
    visibility: c.visibility,
    version: c.latest,
    encrypted: latest?.encrypted ?? false,
    parent,
  };
}

export function clusterView(c: ClusterRecord): ClusterView {
  return { name: c.name, owner: c.owner, services: c.definition.services.map((s) => s.name) };
}

/** A marketplace entry as IQ and HTTP show it (no description when none was written). */
export function marketEntryView(e: MarketEntry): MarketEntryView {
  return {
    id: e.id,
    kind: e.kind,
    owner: e.owner,
    name: e.name,
    summary: e.summary,
    ...(e.description ? { description: e.description } : {}),
    ...(e.contextId !== undefined ? { context: e.contextId, version: e.contextVersion } : {}),
    encrypted: e.encrypted,
    tags: [...e.tags],
    rank: e.rank,
    votes: e.votes,
    created: new Date(e.createdAt).toISOString(),
  };
}

export function cloudViews(clouds: Clouds): CloudView[] {
  return clouds.list().map((c) => ({
    jid: c.jid,
    name: c.name,
    driver: c.data?.driver ?? 'unknown',
    online: c.online,
    instances: c.data?.instances ?? 0,
    free_instances: c.data?.free_instances ?? 0,
  }));
}
