/**
 * Following a deployment's events (PubSub node `deployments/<id>`, XEP-0060) without a
 * gap: subscribe first, then read the node's stored items, and deliver both in `seq`
 * order, each once. Events published between the deploy answer and the subscription are
 * in the stored items; events arriving live during the read are held back until it ends.
 *
 * The subscription names this session's full JID, so two clients of the same user (two
 * terminals) follow independently and one unsubscribing does not silence the other.
 */
import { Element } from 'ltx';
import { sleep, type Agent } from '../../../core/index.js';
import { gateway, StanzaError } from '../../../protocols/index.js';
import type { DeploymentEventView } from './types.js';

const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';

export type EventListener = (e: DeploymentEventView) => void;

export interface Following {
  readonly deployment: string;
  readonly node: string;
  /** Highest seq delivered so far. */
  readonly lastSeq: number;
  stop(): Promise<void>;
}

interface Follower {
  lastSeq: number;
  catchingUp: boolean;
  held: DeploymentEventView[];
  fn: EventListener;
}

export function createFollower(agent: Agent) {
  const byNode = new Map<string, Set<Follower>>();

  const deliver = (f: Follower, e: DeploymentEventView) => {
    if (e.seq <= f.lastSeq) return;
    f.lastSeq = e.seq;
    try {
      f.fn(e);
    } catch (err) {
      agent.log.warn({ err, deployment: e.deployment }, 'deployment event listener failed');
    }
  };

  agent.onEvent(gateway.DeploymentEvent, (e, meta) => {
    for (const f of byNode.get(meta.node) ?? []) {
      if (f.catchingUp) f.held.push(e);
      else deliver(f, e);
    }
  });

  const subscription = (action: 'subscribe' | 'unsubscribe', node: string) => {
    const el = new Element('pubsub', { xmlns: NS_PUBSUB });
    el.c(action, { node, jid: agent.jid });
    return agent.iq(agent.pubsub.service, 'set', el);
  };

  /**
   * Right after a deploy the gateway may still be creating the node or granting us
   * membership of it (a whitelist node), so a refusal then is retried for a moment.
   */
  const subscribeSoon = async (node: string, patienceMs: number) => {
    const deadline = Date.now() + patienceMs;
    for (let wait = 100; ; wait = Math.min(wait * 2, 800)) {
      try {
        return await subscription('subscribe', node);
      } catch (err) {
        const early =
          err instanceof StanzaError &&
          (err.condition === 'item-not-found' || err.condition === 'not-allowed' || err.condition === 'forbidden');
        if (!early || Date.now() + wait > deadline) throw err;
        await sleep(wait);
      }
    }
  };

  return async function follow(
    deployment: string,
    fn: EventListener,
    o: { node?: string; afterSeq?: number; patienceMs?: number } = {},
  ): Promise<Following> {
    const node = o.node ?? `deployments/${deployment}`;
    const f: Follower = { lastSeq: o.afterSeq ?? -1, catchingUp: true, held: [], fn };
    let set = byNode.get(node);
    const first = !set;
    if (!set) byNode.set(node, (set = new Set()));
    set.add(f);
    const leave = async () => {
      set!.delete(f);
      if (set!.size === 0 && byNode.get(node) === set) {
        byNode.delete(node);
        await subscription('unsubscribe', node).catch(() => {
          /* not subscribed, or offline */
        });
      }
    };
    try {
      if (first) await subscribeSoon(node, o.patienceMs ?? 3000);
      const stored: DeploymentEventView[] = [];
      for (const item of await agent.pubsub.items(node)) {
        try {
          stored.push(gateway.DeploymentEvent.payload.decode(item.payload));
        } catch {
          /* not a deployment event */
        }
      }
      for (const e of [...stored, ...f.held].sort((a, b) => a.seq - b.seq)) deliver(f, e);
    } catch (err) {
      await leave();
      throw err;
    } finally {
      f.catchingUp = false;
      f.held = [];
    }
    return {
      deployment,
      node,
      get lastSeq() {
        return f.lastSeq;
      },
      stop: leave,
    };
  };
}
