/**
 * Chat commands for people in any XMPP client: a thin adapter over the service layer
 * (service.ts), which authorizes every use case; each command also declares who may run
 * it, so help lists only those. Replies are plain text; deploy, scale and destroy answer
 * at once and then send progress lines until the work is done.
 */
import type { EventEmitter } from 'node:events';
import type { Agent, ChatArgs } from '../../core/index.js';
import { ChatError } from '../../core/index.js';
import { autoscaleChatCommand, statusLines } from './autoscale/index.js';
import { flagValue, named } from './chat-args.js';
import { summarize } from './desired.js';
import type { Deployment, GatewayModel } from './model/index.js';
import { watchProgress } from './progress.js';
import type { Service } from './service.js';
import { clusterView, contextView, destroyStage } from './views.js';

function describe(model: GatewayModel, d: Deployment): string {
  const all = model.instances.list(d.id);
  const sums = summarize(d.definition, model.wanted.all(d.id), all);
  const stage = destroyStage(d, all);
  const state = stage ? `${d.state}, ${stage}` : d.state;
  return `${d.id} (${d.cluster}, ${d.owner}): ${state} — ${sums.map((s) => `${s.name} ${s.ready}/${s.wanted} ready`).join(', ')}`;
}

function details(model: GatewayModel, d: Deployment): string {
  const lines = [describe(model, d)];
  for (const i of model.instances.list(d.id)) {
    if (i.state === 'terminated' && d.destroyedAt === undefined) continue;
    lines.push(
      `  ${i.name.padEnd(16)} ${i.state.padEnd(11)} ${i.ready ? 'ready' : 'not ready'}  on ${i.cloud}${i.replica ? ' (replica)' : ''}${i.reason ? `  — ${i.reason}` : ''}`,
    );
  }
  lines.push(`  events: node deployments/${d.id}`);
  return lines.join('\n');
}

const positiveInt = (s: string | undefined, what: string): number => {
  if (s === undefined || !/^\d+$/.test(s)) throw new ChatError(`${what} must be a whole number`);
  return Number(s);
};

export function addChatCommands(deps: { agent: Agent; model: GatewayModel; service: Service; events: EventEmitter }) {
  const { agent, model, service, events } = deps;
  const ops = service.deployments;
  const anyone = () => true;
  const allow = (bare: string) => service.users.whoami(bare).allowed;
  const chat = agent.chat;

  chat.add({
    name: 'whoami',
    usage: 'whoami',
    summary: 'who the gateway thinks you are',
    allow: anyone,
    run: (_a, ctx) => {
      const me = service.users.whoami(ctx.bare);
      const rights = me.admin ? 'an admin' : me.allowed ? 'a user' : 'not allowed to use this gateway';
      return `You are ${me.jid}, ${rights}${me.groups.length ? `; groups: ${me.groups.join(', ')}` : ''}.`;
    },
  });

  chat.add({
    name: 'clouds',
    usage: 'clouds',
    summary: 'the clouds and what they can still host',
    allow,
    run: (_a, ctx) => {
      const list = service.clouds.list(ctx.bare);
      if (!list.length) return 'No clouds are configured.';
      return list
        .map(
          (c) =>
            `${c.name} (${c.jid}): ${c.online ? `online, ${c.driver}, ${c.instances} instance(s), room for ${c.free_instances}` : 'offline'}`,
        )
        .join('\n');
    },
  });

  chat.add({
    name: 'contexts',
    usage: 'contexts',
    summary: 'the contexts you may use',
    allow,
    run: (_a, ctx) => {
      const list = service.contexts.list(ctx.bare).map((c) => contextView(model, c));
      if (!list.length) return 'No contexts yet.';
      return list
        .map(
          (c) =>
            `${c.name} v${c.version} (${c.id}, ${c.visibility}${c.encrypted ? ', encrypted' : ''}${c.owner === ctx.bare ? '' : `, of ${c.owner}`})`,
        )
        .join('\n');
    },
  });

  chat.add({
    name: 'clusters',
    usage: 'clusters',
    summary: 'your cluster definitions',
    allow,
    run: (_a, ctx) => {
      const list = service.clusters.list(ctx.bare).map(clusterView);
      if (!list.length) return 'No cluster definitions yet.';
      return list
        .map((c) => `${c.name}${c.owner === ctx.bare ? '' : ` (of ${c.owner})`}: ${c.services.join(', ')}`)
        .join('\n');
    },
  });

  chat.add({
    name: 'deploy',
    usage: 'deploy <cluster> [--<service> N]… [--passphrase P]',
    summary: 'deploy a cluster, with progress',
    allow,
    run: async (a: ChatArgs, ctx) => {
      const cluster = a.positional[0];
      if (!cluster || a.positional.length > 1) throw new ChatError('name one cluster');
      const counts: Record<string, number> = {};
      let passphrase: string | undefined;
      for (const [k, v] of Object.entries(a.flags)) {
        if (k === 'passphrase') passphrase = flagValue(v, k);
        else counts[k] = positiveInt(flagValue(v, k), `--${k}`);
      }
      ctx.reply(`Deploying ${cluster}…`).catch(() => {});
      const d = await ops.deploy(ctx.bare, { cluster, counts, ...(passphrase !== undefined ? { passphrase } : {}) });
      watchProgress({ model, events, deploymentId: d.id, until: 'deployed', say: ctx.reply });
      const wanted = summarize(d.definition, model.wanted.all(d.id), [])
        .map((s) => `${s.name} ×${s.wanted}`)
        .join(', ');
      return `Deployment ${d.id} of ${d.cluster} started (${wanted}). Progress follows; 'status ${d.id}' shows it, PubSub node deployments/${d.id} has every event.`;
    },
  });

  chat.add({
    name: 'status',
    usage: 'status [deployment]',
    summary: 'your deployments, or one in detail',
    allow,
    run: (a, ctx) => {
      const id = a.positional[0];
      if (id) {
        const d = ops.get(ctx.bare, id);
        return [details(model, d), ...statusLines(deps.service.autoscale, ctx.bare, d)].join('\n');
      }
      const list = ops.status(ctx.bare);
      return list.length ? list.map((d) => describe(model, d)).join('\n') : 'No deployments.';
    },
  });

  chat.add({
    name: 'scale',
    usage: 'scale <deployment> <service> <count>',
    summary: 'scale a scalable service',
    allow,
    run: (a, ctx) => {
      const [deployment, service, count] = a.positional;
      if (!deployment || !service) throw new ChatError('name a deployment and a service');
      const d = ops.scale(ctx.bare, { deployment, service, count: positiveInt(count, 'count') });
      const job = model.jobs
        .list(d.id)
        .filter((j) => j.kind === 'scale')
        .pop();
      watchProgress({
        model,
        events,
        deploymentId: d.id,
        until: 'job',
        services: [service],
        ...(job ? { jobId: job.id } : {}),
        say: ctx.reply,
      });
      const paused = deps.service.autoscale
        .show(ctx.bare, d.id)
        .find((v) => v.service === service && v.paused && v.note?.includes('manual scale'));
      return `Scaling ${service} of ${d.id} to ${count}.${paused ? ` Note: ${paused.note}.` : ''}`;
    },
  });

  chat.add(autoscaleChatCommand(deps.service.autoscale, allow));

  chat.add({
    name: 'destroy',
    usage: 'destroy <deployment>',
    summary: 'terminate every instance of a deployment',
    allow,
    run: (a, ctx) => {
      const d = ops.destroy(ctx.bare, { deployment: named(a, 'a deployment') });
      watchProgress({ model, events, deploymentId: d.id, until: 'destroyed', say: ctx.reply });
      return `Destroying ${d.id}…`;
    },
  });
}
