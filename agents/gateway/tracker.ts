/**
 * What cloud agents report about instances: allocation outcomes and state changes
 * (reliable messages, so each arrives at least once and maybe late or twice). Each report
 * moves an instance forward only: the state machines refuse going back, and a report
 * about an instance we consider gone is answered by terminating it again, so a late
 * message can never bring a removed instance back into the deployment.
 */
import type { Agent, Logger, MessageContext } from '../../core/index.js';
import { bareJid } from '../../core/index.js';
import { cloud as proto, notAuthorized } from '../../protocols/index.js';
import type { Allocator } from './allocator.js';
import { cloudName, instanceName } from './allocator.js';
import type { Clouds } from './clouds.js';
import type { GatewayModel, Instance, InstanceState } from './model/index.js';
import { canTransition, INSTANCE_STATES } from './model/index.js';
import type { AllocateResultMsg, InstanceStateMsg } from './wire.js';

/** Moves `i` along requested -> booting -> running as far as `to`, never backwards. */
/** Lists asked of a cloud that came back, and the pause before the n-th retry (n × this). */
const RECONCILE_ATTEMPTS = 5;
const RECONCILE_RETRY_MS = 500;

export function advance(
  model: GatewayModel,
  i: Instance,
  to: 'booting' | 'running',
  patch: { cloudInstanceId?: string } = {},
): Instance {
  const path: InstanceState[] = to === 'running' ? ['booting', 'running'] : ['booting'];
  // From the stored row: `i` may be stale (presence held for its JID can move it on meanwhile).
  let cur = model.instances.get(i.id) ?? i;
  for (const s of path) {
    if (cur.state === s) continue;
    if (!canTransition(INSTANCE_STATES, cur.state, s)) break;
    cur = model.instances.transition(cur.id, s, s === 'booting' ? patch : {});
  }
  return cur;
}

/** Fails an instance unless it is already on its way out. */
export function fail(model: GatewayModel, i: Instance, reason: string): Instance {
  if (!canTransition(INSTANCE_STATES, i.state, 'failed') || i.state === 'terminating') return i;
  return model.instances.transition(i.id, 'failed', { reason, message: `${i.name} failed: ${reason}` });
}

export function createTracker(deps: {
  agent: Agent;
  model: GatewayModel;
  clouds: Clouds;
  allocator: Allocator;
  log: Logger;
  changed: (deploymentId: string) => void;
  instanceJid: (i: Instance) => void;
}) {
  const { agent, model, clouds, allocator, log, changed } = deps;

  const fromCloud = (ctx: MessageContext) => {
    if (!clouds.isCloud(ctx.bare))
      throw notAuthorized(`${ctx.bare} is not a cloud agent of this gateway`, 'unauthorized-sender');
  };

  /** The instance a cloud speaks of, if that cloud owns it. */
  const find = (cloudJid: string, deployment: string, name: string): Instance | undefined => {
    const n = instanceName(deployment, name);
    const i = n ? model.instances.byName(deployment, n) : undefined;
    return i && i.cloud === cloudJid ? i : undefined;
  };

  function onResult(m: AllocateResultMsg, ctx: MessageContext): void {
    fromCloud(ctx);
    if (!model.deployments.get(m.deployment)) return;
    for (const name of m.refused) {
      const i = find(ctx.bare, m.deployment, name);
      // A refused instance never existed at the cloud (it has no cloud id): it ends here,
      // whether or not an error report about it came first.
      if (!i || i.cloudInstanceId || !['requested', 'failed', 'terminating'].includes(i.state)) continue;
      const reason = `refused by ${ctx.bare}${m.condition ? ` (${m.condition})` : ''}${m.reason ? `: ${m.reason}` : ''}`;
      model.transaction(() => {
        let cur = fail(model, i, reason);
        if (cur.state === 'failed') cur = model.instances.transition(cur.id, 'terminating');
        model.instances.transition(cur.id, 'terminated', { message: `${i.name} not created` });
      });
    }
    if (m.accepted.length) {
      model.events.append(m.deployment, {
        type: 'allocation',
        message: `${ctx.bare} accepted ${m.accepted.length} instance(s) of ${m.service}`,
        data: { cloud: ctx.bare, accepted: m.accepted },
      });
    }
    changed(m.deployment);
  }

  async function onState(m: InstanceStateMsg, ctx: MessageContext): Promise<void> {
    fromCloud(ctx);
    const dep = model.deployments.get(m.deployment);
    if (!dep) return; // not one of ours: another requester's business
    let i = find(ctx.bare, m.deployment, m.name);
    const alive = m.state === 'pending' || m.state === 'running';
    if (!i || i.state === 'terminated' || i.state === 'terminating') {
      if (i && m.id && !i.cloudInstanceId) i = model.instances.setCloudInfo(i.id, { cloudInstanceId: m.id });
      if (i?.state === 'terminating' && m.state === 'terminated') {
        model.instances.transition(i.id, 'terminated');
        changed(m.deployment);
      } else if (alive) {
        // Unknown to us, or being removed: it must not keep running (a late report, or an
        // allocation that reached the cloud after its termination).
        const n = instanceName(m.deployment, m.name);
        if (!i)
          log.warn(
            { deployment: m.deployment, name: m.name, cloud: ctx.bare },
            'cloud reports an instance we do not keep; terminating it',
          );
        if (n) await allocator.terminate(dep, ctx.bare, [n]);
      }
      return;
    }
    if (m.jid && (!i.jid || i.jid !== bareJid(m.jid))) {
      i = model.instances.setCloudInfo(i.id, { jid: bareJid(m.jid) });
      deps.instanceJid(i);
    }
    if (m.id && !i.cloudInstanceId) i = model.instances.setCloudInfo(i.id, { cloudInstanceId: m.id });
    switch (m.state) {
      case 'pending':
      case 'running':
        advance(model, i, 'booting', m.id ? { cloudInstanceId: m.id } : {});
        break;
      case 'stopping':
        if (i.state !== 'terminating') fail(model, i, `stopping at the cloud${m.reason ? `: ${m.reason}` : ''}`);
        break;
      case 'terminated':
        model.transaction(() => {
          const cur = fail(model, i!, `terminated by the cloud${m.reason ? `: ${m.reason}` : ''}`);
          if (cur.state === 'failed') model.instances.transition(cur.id, 'terminating');
          model.instances.transition(cur.id, 'terminated');
        });
        break;
      case 'error':
        fail(model, i, `error at the cloud${m.reason ? `: ${m.reason}` : ''}`);
        break;
      case 'unknown':
        break;
    }
    changed(m.deployment);
  }

  agent.onMessage(proto.AllocateResult, onResult);
  agent.onMessage(proto.InstanceState, onState);

  /**
   * A cloud coming and going is part of the history of each deployment it hosts (or is
   * working for): after a crash, a restart or a lost connection, the events say when the
   * gateway lost sight of it and when it was back and reconciled.
   */
  function note(cloudJid: string, message: (d: string) => string, data: Record<string, unknown>): void {
    const ids = new Set(
      model.instances
        .inStates(['requested', 'booting', 'running', 'draining', 'terminating'])
        .filter((i) => i.cloud === cloudJid)
        .map((i) => i.deploymentId),
    );
    for (const j of model.jobs.unfinished()) ids.add(j.deploymentId);
    for (const id of ids)
      model.events.append(id, { type: 'cloud', message: message(id), data: { cloud: cloudJid, ...data } });
  }
  clouds.events.on('offline', (jid: string) => note(jid, () => `cloud ${jid} offline`, { online: false }));
  // Back is back at once; its reconciliation (a list the cloud may be slow to answer after a
  // restart) is a later event of its own.
  clouds.events.on('online', (jid: string) => note(jid, () => `cloud ${jid} online`, { online: true }));

  return {
    /** Brings our view in line with a cloud's own list (after a restart or a lost message). */
    async reconcile(cloudJid: string): Promise<void> {
      // A cloud agent just back from a restart may not answer its first list in time (it is
      // busy adopting its instances): ask again while it stays online, a few times.
      let listed = await clouds.listInstances(cloudJid);
      for (let attempt = 1; !listed && attempt < RECONCILE_ATTEMPTS && clouds.get(cloudJid).online; attempt++) {
        await new Promise((r) => setTimeout(r, RECONCILE_RETRY_MS * attempt));
        if (clouds.get(cloudJid).online) listed = await clouds.listInstances(cloudJid);
      }
      if (!listed) {
        log.warn({ cloud: cloudJid }, 'cloud agent did not list its instances: not reconciled until it is back again');
        if (clouds.get(cloudJid).online)
          note(cloudJid, () => `cloud ${cloudJid} not reconciled: it did not list its instances in time`, {
            reconciled: false,
          });
        return;
      }
      note(
        cloudJid,
        (d) =>
          `cloud ${cloudJid} reconciled: it lists ${listed.filter((l) => l.deployment === d && l.state !== 'terminated').length} instance(s) of this deployment`,
        { reconciled: true },
      );
      for (const l of listed) {
        await onState({ ...l }, { from: cloudJid, bare: cloudJid, id: '', reliable: false, log, state: {} });
      }
      // Running here, unknown there: the cloud lost it.
      const seen = new Set(listed.map((l) => `${l.deployment} ${l.name}`));
      for (const i of model.instances.inStates(['running', 'booting'])) {
        if (i.cloud !== cloudJid || !i.cloudInstanceId) continue;
        if (!seen.has(`${i.deploymentId} ${cloudName(i.deploymentId, i.name)}`)) {
          fail(model, i, `${cloudJid} no longer lists it`);
          changed(i.deploymentId);
        }
      }
    },
  };
}

export type Tracker = ReturnType<typeof createTracker>;
