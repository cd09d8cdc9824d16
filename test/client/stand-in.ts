/**
 * A stand-in gateway for client tests: a real agent on a real ejabberd answering the
 * urn:cloudgate:gateway:1 requests from a small in-memory model, publishing deployment
 * events on `deployments/<id>` as the real gateway does. Instances become ready one per
 * `stepMs`. Cluster names steer outcomes: `doomed-*` fails after one instance, `quota-*`
 * is refused with quota-exceeded.
 */
import { randomBytes } from 'node:crypto';
import type { Agent } from '../../core/index.js';
import { gateway as gw, forbidden, notFound, badRequest, resourceConstraint } from '../../protocols/index.js';
import { parseCluster } from '../../agents/gateway/model/index.js';
import type { DeploymentView, ContextView, ClusterView } from '../../agents/gateway/client.js';

interface Ctx {
  view: ContextView;
  bodies: string[];
  passphrase?: string;
}

export interface StandIn {
  deployments: Map<string, DeploymentView>;
  /** Events published before the deploy answer (the catch-up test reads them). */
  publishedBefore: number;
  /** Stops the timers driving deployments. */
  stop(): void;
}

export function standInGateway(
  agent: Agent,
  o: { users: Record<string, { admin?: boolean; groups?: string[] }>; stepMs?: number },
): StandIn {
  const stepMs = o.stepMs ?? 100;
  const deployments = new Map<string, DeploymentView>();
  const contexts = new Map<string, Ctx>();
  const clusters = new Map<string, ClusterView & { defText: string }>();
  const timers = new Set<NodeJS.Timeout>();
  let seq = 0;
  let n = 0;
  const now = () => new Date().toISOString();

  agent.filterRequests('users', 10, async (ctx, next) => {
    if (!o.users[ctx.bare]) throw forbidden(`${ctx.bare} is not a user of this gateway`, 'not-in-acl');
    await next();
  });

  const publish = async (d: DeploymentView, type: string, message: string) => {
    d.updated = now();
    await agent.pubsub.publish(gw.DeploymentEvent, d.node, {
      deployment: d.id,
      seq: ++seq,
      type,
      message,
      state: d.state,
      data: undefined,
      at: d.updated,
    });
  };
  const mine = (id: string, owner: string) => {
    const d = deployments.get(id);
    if (!d || d.owner !== owner) throw notFound(`no deployment '${id}'`);
    return d;
  };
  const step = (d: DeploymentView, doomed: boolean) => {
    const t = setTimeout(async () => {
      timers.delete(t);
      if (d.state !== 'pending' && d.state !== 'running') return;
      const svc = d.services.find((s) => s.ready < s.wanted);
      if (svc) {
        svc.ready++;
        const inst = d.instances.find((i) => i.service === svc.name && !i.ready);
        if (inst) {
          inst.ready = true;
          inst.state = 'running';
        }
        if (d.state === 'pending') d.state = 'running';
        await publish(d, 'instance', `${svc.name} ${svc.ready}/${svc.wanted} ready`);
        if (doomed) {
          d.state = 'failed';
          await publish(d, 'state', 'cloud-a refused the workers: quota exceeded');
          return;
        }
      }
      if (d.services.every((s) => s.ready >= s.wanted)) {
        d.state = 'running';
        await publish(d, 'ready', 'every service is ready');
        return;
      }
      step(d, doomed);
    }, stepMs);
    timers.add(t);
  };
  const addInstances = (d: DeploymentView) => {
    for (const s of d.services) {
      const have = d.instances.filter((i) => i.service === s.name).length;
      for (let i = have; i < s.wanted; i++) {
        d.instances.push({
          name: `${d.id}-${s.name}-${i + 1}`,
          service: s.name,
          cloud: 'cloud-a',
          state: 'pending',
          ready: false,
          context_version: 1,
          cloud_instance_id: undefined,
        });
      }
    }
  };

  const standIn: StandIn = {
    deployments,
    publishedBefore: 0,
    stop: () => {
      for (const t of timers) clearTimeout(t);
    },
  };

  agent.handle(gw.Deploy, async ({ cluster, counts }, ctx) => {
    if (cluster.startsWith('quota')) throw resourceConstraint('quota exceeded: 0 instances left', 'quota-exceeded');
    const c = clusters.get(cluster);
    if (!c) throw notFound(`no cluster '${cluster}'`);
    const def = parseCluster(c.defText);
    const id = `d${++n}`;
    const services = def.services.map((s) => {
      const wanted = s.type === 'fixed' ? s.count : Number(counts?.[s.name] ?? s.initial);
      return { name: s.name, type: s.type, wanted, ready: 0 };
    });
    for (const k of Object.keys(counts ?? {}))
      if (!services.some((s) => s.name === k)) throw badRequest(`no service '${k}' in ${cluster}`);
    const d: DeploymentView = {
      id,
      cluster,
      owner: ctx.bare,
      state: 'pending',
      created: now(),
      updated: now(),
      node: `deployments/${id}`,
      services,
      instances: [],
    };
    addInstances(d);
    deployments.set(id, d);
    await agent.pubsub.ensureNode(d.node, { maxItems: 1000, accessModel: 'open' });
    await publish(d, 'created', `deployment of ${cluster} created`);
    await publish(d, 'placement', `placed ${d.instances.length} instances on cloud-a`);
    standIn.publishedBefore = 2;
    step(d, cluster.startsWith('doomed'));
    return { deployment: d };
  });
  agent.handle(gw.Status, ({ deployment }, ctx) => {
    if (deployment) return { deployments: [mine(deployment, ctx.bare)] };
    return { deployments: [...deployments.values()].filter((d) => d.owner === ctx.bare) };
  });
  agent.handle(gw.Scale, async ({ deployment, service, count }, ctx) => {
    const d = mine(deployment, ctx.bare);
    const s = d.services.find((x) => x.name === service);
    if (!s) throw notFound(`no service '${service}' in ${deployment}`);
    if (s.type !== 'scalable') throw badRequest(`${service} is a fixed service`, 'invalid-field');
    s.wanted = count;
    s.ready = Math.min(s.ready, count);
    addInstances(d);
    await publish(d, 'scale', `${service} to ${count}`);
    step(d, false);
    return { deployment: d };
  });
  agent.handle(gw.Destroy, async ({ deployment }, ctx) => {
    const d = mine(deployment, ctx.bare);
    d.state = 'aborted';
    for (const i of d.instances) {
      i.state = 'terminated';
      i.ready = false;
    }
    for (const s of d.services) s.ready = 0;
    await publish(d, 'state', 'destroyed');
    return { deployment: d };
  });

  agent.handle(gw.ListContexts, (_q, ctx) => ({
    contexts: [...contexts.values()]
      .filter((c) => c.view.owner === ctx.bare || c.view.visibility === 'public')
      .map((c) => c.view),
  }));
  agent.handle(gw.PutContext, ({ name, body, visibility, passphrase }, ctx) => {
    const key = `${ctx.bare}/${name}`;
    const c = contexts.get(key);
    if (c) {
      c.bodies.push(body);
      c.view = { ...c.view, version: c.bodies.length };
      return { context: c.view };
    }
    const view: ContextView = {
      id: `c${++n}`,
      name,
      owner: ctx.bare,
      visibility: visibility ?? 'private',
      version: 1,
      encrypted: !!passphrase,
      parent: undefined,
    };
    contexts.set(key, { view, bodies: [body], passphrase });
    return { context: view };
  });
  const findContext = (ref: string, owner: string) => {
    const c =
      contexts.get(ref) ?? contexts.get(`${owner}/${ref}`) ?? [...contexts.values()].find((x) => x.view.id === ref);
    if (!c || (c.view.owner !== owner && c.view.visibility !== 'public')) throw notFound(`no context '${ref}'`);
    return c;
  };
  agent.handle(gw.GetContext, ({ ref, version, passphrase }, ctx) => {
    const c = findContext(ref, ctx.bare);
    if (c.passphrase && c.passphrase !== passphrase) throw forbidden('wrong or missing passphrase', 'passphrase');
    const body = c.bodies[(version ?? c.bodies.length) - 1];
    if (body === undefined) throw notFound(`context '${ref}' has no version ${version}`);
    return { context: { ...c.view, version: version ?? c.view.version }, body };
  });
  agent.handle(gw.CloneContext, ({ ref, name }, ctx) => {
    const c = findContext(ref, ctx.bare);
    const view: ContextView = {
      ...c.view,
      id: `c${++n}`,
      name: name ?? c.view.name,
      owner: ctx.bare,
      version: 1,
      visibility: 'private',
      parent: c.view.id,
    };
    contexts.set(`${ctx.bare}/${view.name}`, {
      view,
      bodies: [c.bodies[c.bodies.length - 1]!],
      passphrase: c.passphrase,
    });
    return { context: view };
  });

  agent.handle(gw.ListClusters, () => ({ clusters: [...clusters.values()].map(({ defText: _, ...v }) => v) }));
  agent.handle(gw.PutCluster, ({ definition }, ctx) => {
    let def;
    try {
      def = parseCluster(definition);
    } catch (err) {
      throw badRequest((err as Error).message, 'invalid-field');
    }
    const view = { name: def.name, owner: ctx.bare, services: def.services.map((s) => s.name) };
    clusters.set(def.name, { ...view, defText: definition });
    return { cluster: view };
  });
  agent.handle(gw.ListClouds, () => ({
    clouds: [
      {
        jid: `cloud-a@${agent.bare.split('@')[1]}`,
        name: 'cloud-a',
        driver: 'local',
        online: true,
        instances: 4,
        free_instances: 16,
      },
    ],
  }));
  agent.handle(gw.WhoAmI, (_q, ctx) => ({
    jid: ctx.bare,
    admin: !!o.users[ctx.bare]!.admin,
    groups: o.users[ctx.bare]!.groups ?? [],
  }));
  agent.handle(gw.PairingCode, ({ context, ttl_s }, ctx) => {
    findContext(context, ctx.bare);
    return { code: randomBytes(6).toString('hex'), expires: Math.floor(Date.now() / 1000) + (ttl_s ?? 600) };
  });
  return standIn;
}
