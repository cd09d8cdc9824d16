/**
 * The typed IQ API (protocols/gateway.ts) for programs. Every request but WhoAmI is
 * authorized by the sender's bare JID first (a filter, so no handler can forget it), and
 * model errors leave as stanza errors with an application condition.
 */
import type { Agent } from '../../core/index.js';
import { badRequest, gateway as proto, notFound } from '../../protocols/index.js';
import { parseContext } from '../instance/context/index.js';
import type { Access } from './access.js';
import { autoscaleRequest, type AutoscaleControl } from './autoscale/index.js';
import type { Clouds } from './clouds.js';
import type { ContextTexts } from './contexts.js';
import { toStanzaError } from './errors.js';
import { encryptContext, type GatewayModel } from './model/index.js';
import type { Operations } from './operations.js';
import { cloudViews, clusterView, contextView, deploymentView } from './views.js';

/** A context body must be an amiconfig document; [cloudgate] is the cloud agent's to write. */
export function checkContextBody(body: string): void {
  try {
    const c = parseContext(body);
    if (c.sections.has('cloudgate')) throw badRequest('the [cloudgate] section is written by the cloud agent; remove it from the context');
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('CG_CONTEXT_')) throw badRequest(`context body: ${(err as Error).message}`);
    throw err;
  }
}

export function createApi(deps: {
  agent: Agent; model: GatewayModel; access: Access; ops: Operations; clouds: Clouds; texts: ContextTexts; autoscale: AutoscaleControl;
}) {
  const { agent, model, access, ops, clouds, texts } = deps;

  agent.filterRequests('gateway-users', 10, async (ctx, next) => {
    if (!ctx.def.key.startsWith(`${proto.NS_GATEWAY} `)) return next();
    try {
      if (ctx.def !== proto.WhoAmI) ctx.state.user = access.requireUser(ctx.bare).jid;
      await next();
    } catch (err) {
      throw toStanzaError(err);
    }
  });

  agent.handle(proto.WhoAmI, (_q, ctx) => ({ jid: ctx.bare, admin: access.isAdmin(ctx.bare), groups: access.groupsOf(ctx.bare) }));

  agent.handle(proto.Deploy, async (q, ctx) => ({ deployment: deploymentView(model, await ops.deploy(ctx.bare, q)) }));
  agent.handle(proto.Scale, (q, ctx) => ({ deployment: deploymentView(model, ops.scale(ctx.bare, q)) }));
  agent.handle(proto.Destroy, (q, ctx) => ({ deployment: deploymentView(model, ops.destroy(ctx.bare, q)) }));
  agent.handle(proto.Status, (q, ctx) => ({ deployments: ops.status(ctx.bare, q.deployment).map((d) => deploymentView(model, d)) }));
  agent.handle(proto.Autoscale, (q, ctx) => ({ policies: autoscaleRequest(deps.autoscale, ctx.bare, q) }));

  agent.handle(proto.ListContexts, (_q, ctx) => ({ contexts: model.contexts.list(ctx.bare).map((c) => contextView(model, c)) }));

  agent.handle(proto.PutContext, async (q, ctx) => {
    checkContextBody(q.body);
    const content = q.passphrase !== undefined
      ? { type: 'encrypted' as const, blob: await encryptContext(q.body, q.passphrase) }
      : { type: 'plain' as const, body: q.body };
    const own = model.contexts.byName(ctx.bare, q.name);
    if (!own) return { context: contextView(model, model.contexts.create({ owner: ctx.bare, name: q.name, visibility: q.visibility ?? 'private', content })) };
    model.transaction(() => {
      model.contexts.newVersion(own.id, content);
      if (q.visibility && q.visibility !== own.visibility) model.contexts.setVisibility(own.id, q.visibility);
    });
    return { context: contextView(model, model.contexts.require(own.id)) };
  });

  agent.handle(proto.GetContext, async (q, ctx) => {
    const c = model.contexts.resolve(q.ref, ctx.bare);
    if (!c) throw notFound(`context '${q.ref}' not found`);
    const body = await texts.read(c.id, q.version ?? c.latest, q.passphrase);
    return { context: { ...contextView(model, c), version: q.version ?? c.latest }, body };
  });

  agent.handle(proto.CloneContext, (q, ctx) => {
    const c = model.contexts.resolve(q.ref, ctx.bare);
    if (!c) throw notFound(`context '${q.ref}' not found`);
    return { context: contextView(model, model.contexts.clone(c.id, ctx.bare, q.name ? { name: q.name } : {})) };
  });

  agent.handle(proto.ListClusters, (_q, ctx) => ({
    clusters: (access.isAdmin(ctx.bare) ? model.clusters.list() : model.clusters.list(ctx.bare)).map(clusterView),
  }));
  agent.handle(proto.PutCluster, (q, ctx) => ({ cluster: clusterView(model.clusters.put(ctx.bare, q.definition)) }));

  agent.handle(proto.ListClouds, () => ({ clouds: cloudViews(clouds) }));
}
