/**
 * The instance's presence: instance id, deployment, service, context version, phase,
 * readiness and busy flag (protocols/instance.ts InstancePresence), sent to the server and
 * directed to the gateway and the cloud agent (they are not subscribed to us: directed
 * presence needs no roster). Follows every lifecycle change.
 */
import type { Logger } from 'pino';
import type { Agent, AgentModule } from '../../core/index.js';
import { instance as proto } from '../../protocols/index.js';
import type { Identity } from './identity.js';
import type { Lifecycle, LifeSnapshot } from './lifecycle.js';

const { InstancePresence } = proto;

export function instancePresence({
  identity,
  life,
  log,
}: {
  identity: Identity;
  life: Lifecycle;
  log: Logger;
}): AgentModule & { refresh(): Promise<void> } {
  let agent: Agent | undefined;
  const announced = new Set<string>();

  const data = (s: LifeSnapshot) => ({
    instance_id: identity.instanceId,
    deployment: identity.section.deployment,
    service: identity.section.service,
    context_version: s.contextVersion,
    phase: s.phase,
    ready: s.ready,
    busy: s.busy,
  });

  const refresh = async () => {
    if (!agent) return;
    await agent.setPresence(InstancePresence, data(life.snapshot()));
    // A newer context may name another gateway or cloud agent.
    for (const to of [identity.gateway, identity.cloud]) {
      if (!to || announced.has(to)) continue;
      announced.add(to);
      await agent.announceTo(to);
    }
  };
  const onChange = () => refresh().catch((err) => log.warn({ err }, 'could not update presence'));

  return {
    name: 'instance-presence',
    refresh,
    setup(a) {
      a.registerPresence(InstancePresence);
    },
    async start(a) {
      agent = a;
      life.on('change', onChange);
      // A session lost right now is not fatal: the agent broadcasts our presence again on
      // the next one.
      await onChange();
    },
    stop() {
      life.off('change', onChange);
      agent = undefined;
    },
  };
}
