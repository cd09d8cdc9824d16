/**
 * Every state change of an instance goes through here: the database is updated first,
 * then the change is sent reliably to the requester of its deployment (stored in the
 * outbox, so a restart or an absent gateway loses nothing) and published on the cloud's
 * PubSub node for its requesters and admins. Changes of the provider's word or addresses alone are
 * recorded without a notification.
 */
import type { Agent, Logger } from '../../core/index.js';
import { cloud } from '../../protocols/index.js';
import type { CloudConfig } from './config.js';
import type { CloudStore, InstanceRow, StoredState } from './store.js';
import { instanceJid } from './userdata.js';
import type { Scrub } from './errors.js';

export interface Change {
  state: StoredState;
  cloudId?: string;
  providerState?: string;
  reason?: string;
  addresses?: string[];
}

export type Reporter = ReturnType<typeof reporter>;

export function nodeOf(config: CloudConfig): string {
  return `clouds/${config.name}`;
}

/** 'requested' is never reported; a creation the cloud refused is reported as 'error'. */
function wireState(s: StoredState): cloud.CloudInstanceState {
  if (s === 'failed') return 'error';
  if (s === 'requested') return 'pending';
  return s;
}

export function reporter({
  agent,
  store,
  config,
  log,
  scrub,
  onChange,
}: {
  agent: Agent;
  store: CloudStore;
  config: CloudConfig;
  log: Logger;
  scrub: Scrub;
  onChange: () => void;
}) {
  const node = nodeOf(config);

  function payload(r: InstanceRow) {
    return {
      deployment: r.deployment,
      service: r.service,
      name: r.name,
      id: r.cloud_id ?? undefined,
      jid: instanceJid(config, r.name),
      state: wireState(r.state),
      provider_state: r.provider_state ?? undefined,
      reason: r.reason ? scrub(r.reason).slice(0, 2048) : undefined,
      addresses: r.addresses.length ? r.addresses.slice(0, 16) : undefined,
      at: new Date(r.updated_at).toISOString(),
    };
  }

  async function notify(r: InstanceRow): Promise<void> {
    const msg = payload(r);
    try {
      await agent.sendReliable(cloud.InstanceState, r.requester, msg);
    } catch (err) {
      log.warn({ err, name: r.name }, 'could not queue the instance state message');
    }
    agent.pubsub
      .publish(cloud.InstanceStateEvent, node, msg)
      .catch((err) => log.warn({ err: String(err), name: r.name }, 'could not publish the instance state'));
  }

  return {
    payload,
    /** Applies a change; notifies when the state (or the cloud id) is new. Returns the row after. */
    apply(name: string, c: Change): InstanceRow | undefined {
      const cur = store.instance(name);
      if (!cur) return undefined;
      const patch = {
        state: c.state,
        cloud_id: c.cloudId ?? cur.cloud_id,
        provider_state: c.providerState ?? cur.provider_state,
        reason: c.reason !== undefined ? c.reason : c.state === cur.state ? cur.reason : null,
        addresses: c.addresses ?? cur.addresses,
      };
      const same = patch.state === cur.state && patch.cloud_id === cur.cloud_id;
      if (
        same &&
        patch.provider_state === cur.provider_state &&
        patch.reason === cur.reason &&
        JSON.stringify(patch.addresses) === JSON.stringify(cur.addresses)
      )
        return cur;
      const { after } = store.update(name, patch)!;
      if (!same) {
        log.info(
          { name, deployment: after.deployment, from: cur.state, to: after.state, cloudId: after.cloud_id },
          'instance state changed',
        );
        void notify(after);
        onChange();
      }
      return after;
    },
    /**
     * Sets up the PubSub node. Its items name every deployment's instances, cloud ids,
     * addresses and failure reasons, so it is a whitelist node: only the requesters (who
     * are sent each change reliably anyway, and watch here) and the admins may subscribe
     * or read; only this agent publishes. An existing node is reconfigured, so one left
     * open by an older version is closed at the next start.
     */
    async start(): Promise<void> {
      try {
        await agent.pubsub.ensureNode(node, { maxItems: 1000, accessModel: 'whitelist', publishModel: 'publishers' });
        const members: Record<string, 'member'> = {};
        for (const j of [...config.requesters, ...config.admins]) if (j !== agent.bare) members[j] = 'member';
        await agent.pubsub.setAffiliations(node, members);
        const dropped = await agent.pubsub.pruneSubscriptions(node, new Set([agent.bare, ...Object.keys(members)]));
        if (dropped.length)
          log.warn({ node, dropped }, 'ended subscriptions of JIDs that are neither requesters nor admins');
      } catch (err) {
        log.warn(
          { err: String(err), node },
          'could not create the PubSub node; state events will only go to requesters',
        );
      }
    },
  };
}
