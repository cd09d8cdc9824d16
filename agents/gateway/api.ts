/**
 * The typed IQ API (protocols/gateway.ts) for programs: a thin adapter over the service
 * layer (service.ts), which authorizes each request by the sender's bare JID. A filter
 * turns the service's typed errors into stanza errors with an application condition.
 */
import type { Agent } from '../../core/index.js';
import { gateway as proto } from '../../protocols/index.js';
import { imageRef } from '../../images/index.js';
import { toStanzaError } from './errors.js';
import type { GatewayModel } from './model/index.js';
import { formatProblem, type Service } from './service.js';
import { clusterView, contextView, deploymentView, marketEntryView } from './views.js';

export function createApi(deps: { agent: Agent; model: GatewayModel; service: Service }) {
  const { agent, model, service } = deps;
  const dep = service.deployments;

  agent.filterRequests('gateway-errors', 10, async (ctx, next) => {
    if (!ctx.def.key.startsWith(`${proto.NS_GATEWAY} `)) return next();
    try {
      await next();
    } catch (err) {
      throw toStanzaError(err);
    }
  });

  agent.handle(proto.WhoAmI, (_q, ctx) => {
    const me = service.users.whoami(ctx.bare);
    return { jid: me.jid, admin: me.admin, groups: me.groups };
  });

  agent.handle(proto.Deploy, async (q, ctx) => ({ deployment: deploymentView(model, await dep.deploy(ctx.bare, q)) }));
  agent.handle(proto.Scale, (q, ctx) => ({ deployment: deploymentView(model, dep.scale(ctx.bare, q)) }));
  agent.handle(proto.Destroy, (q, ctx) => ({ deployment: deploymentView(model, dep.destroy(ctx.bare, q)) }));
  agent.handle(proto.Status, (q, ctx) => ({
    deployments: dep.status(ctx.bare, q.deployment).map((d) => {
      // One deployment asked for: with its policies and their latest decisions, as chat and HTTP show them.
      const policies = q.deployment === undefined ? [] : service.autoscale.show(ctx.bare, d.id);
      return { ...deploymentView(model, d), ...(policies.length ? { autoscale: policies } : {}) };
    }),
  }));
  agent.handle(proto.Autoscale, (q, ctx) => ({ policies: service.autoscale.request(ctx.bare, q) }));

  agent.handle(proto.ListContexts, (_q, ctx) => ({
    contexts: service.contexts.list(ctx.bare).map((c) => contextView(model, c)),
  }));
  agent.handle(proto.PutContext, async (q, ctx) => {
    const r = await service.contexts.put(ctx.bare, q);
    return {
      context: contextView(model, r.context),
      warnings: r.warnings.length ? r.warnings.map(formatProblem) : undefined,
    };
  });
  agent.handle(proto.GetContext, async (q, ctx) => {
    const t = await service.contexts.read(ctx.bare, q);
    return { context: { ...contextView(model, t.context), version: t.version }, body: t.body };
  });
  agent.handle(proto.CloneContext, (q, ctx) => ({ context: contextView(model, service.contexts.clone(ctx.bare, q)) }));

  agent.handle(proto.ListClusters, (_q, ctx) => ({ clusters: service.clusters.list(ctx.bare).map(clusterView) }));
  agent.handle(proto.PutCluster, (q, ctx) => ({ cluster: clusterView(service.clusters.put(ctx.bare, q.definition)) }));

  const market = service.market;
  agent.handle(proto.Publish, (q, ctx) => ({ entry: marketEntryView(market.publish(ctx.bare, q)) }));
  agent.handle(proto.Unpublish, (q, ctx) => {
    market.unpublish(ctx.bare, q.id);
    return {};
  });
  agent.handle(proto.MarketSearch, (q, ctx) => {
    const r = market.search(ctx.bare, q);
    return { entries: r.entries.map(marketEntryView), total: r.total, page: r.page, pages: r.pages };
  });
  agent.handle(proto.Vote, (q, ctx) => ({ entry: marketEntryView(market.vote(ctx.bare, q.id, q.value)) }));
  agent.handle(proto.CloneEntry, (q, ctx) => {
    const c = market.clone(ctx.bare, q.id, q.name);
    return c.kind === 'cluster' ? { cluster: clusterView(c.cluster) } : { context: contextView(model, c.context) };
  });

  agent.handle(proto.DeployEntry, async (q, ctx) => {
    const r = await market.deploy(ctx.bare, q.id, { counts: q.counts, passphrase: q.passphrase });
    return { deployment: deploymentView(model, r.deployment), cluster: clusterView(r.cluster), cloned: r.cloned };
  });
  agent.handle(proto.PairEntry, (q, ctx) => market.pair(ctx.bare, q.id, q.ttl_s));

  agent.handle(proto.PublishImage, (q, ctx) => {
    const p = service.images.publish(ctx.bare, q.envelope);
    return {
      image: imageRef(p.metadata),
      valid_until: p.metadata.valid_until,
      endorsers: p.endorsers.map((e) => e.keyid),
      replaced: p.replaced,
    };
  });

  agent.handle(proto.ListImages, (_q, ctx) => ({ images: service.images.list(ctx.bare) }));

  agent.handle(proto.ListClouds, (_q, ctx) => ({ clouds: service.clouds.list(ctx.bare) }));

  const pairing = service.pairing;
  if (pairing) {
    agent.handle(proto.PairingCode, (q, ctx) =>
      pairing.code(ctx.bare, { context: q.context, version: q.version, ttlS: q.ttl_s }),
    );
  }
}
