/**
 * Every change of a deployment goes out on its PubSub node `deployments/<id>`, in order,
 * exactly once per event: a cursor in the database records the last published event, and
 * item ids are derived from the event's sequence number, so re-publishing after a crash
 * replaces an item instead of duplicating it. Nodes are whitelisted to the owner and the
 * admins (or open, by configuration); clients subscribe and catch up from the items.
 *
 * Inside the process the same events are emitted as they are appended (chat progress).
 */
import { EventEmitter } from 'node:events';
import type { Agent, Logger } from '../../core/index.js';
import { gateway as proto } from '../../protocols/index.js';
import type { DeploymentEvent, GatewayModel } from './model/index.js';

export const nodeOf = (deploymentId: string): string => `deployments/${deploymentId}`;
export const itemIdOf = (seq: number): string => `e${String(seq).padStart(15, '0')}`;

export function createPublisher(deps: {
  agent: Agent;
  model: GatewayModel;
  log: Logger;
  admins: () => string[];
  access: 'whitelist' | 'open';
  retryMs?: number;
}) {
  const { agent, model, log } = deps;
  const local = new EventEmitter();
  local.setMaxListeners(0);
  const ensured = new Set<string>();
  let running = false;
  let pending = false;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;

  const cursor = (): number =>
    (model.db.prepare("SELECT value FROM cursors WHERE name = 'published'").pluck().get() as number | undefined) ?? 0;
  const setCursor = (seq: number) =>
    model.db
      .prepare(`INSERT INTO cursors (name, value) VALUES ('published', ?)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value`)
      .run(seq);

  async function ensure(deploymentId: string, owner: string): Promise<void> {
    const node = nodeOf(deploymentId);
    if (ensured.has(node)) return;
    await agent.pubsub.ensureNode(node, { accessModel: deps.access, publishModel: 'publishers', maxItems: 1000 });
    if (deps.access === 'whitelist') {
      const members: Record<string, 'member'> = {};
      for (const j of [owner, ...deps.admins()]) if (j !== agent.bare) members[j] = 'member';
      await agent.pubsub.setAffiliations(node, members);
    }
    ensured.add(node);
  }

  async function drain(): Promise<void> {
    for (;;) {
      const batch = model.events.after(cursor(), 100);
      if (batch.length === 0) return;
      for (const e of batch) {
        const dep = model.deployments.get(e.deploymentId);
        if (dep) {
          await ensure(dep.id, dep.owner);
          await agent.pubsub.publish(
            proto.DeploymentEvent,
            nodeOf(dep.id),
            {
              deployment: dep.id,
              seq: e.seq,
              type: e.type.slice(0, 64),
              message: e.message.slice(0, 4096),
              state: dep.state,
              data: e.data,
              at: new Date(e.time).toISOString(),
            },
            itemIdOf(e.seq),
          );
        }
        setCursor(e.seq);
      }
    }
  }

  function kick(): void {
    if (stopped || !agent.isOnline) return;
    if (running) {
      pending = true;
      return;
    }
    running = true;
    drain()
      .catch((err) => {
        if (stopped) return;
        log.warn({ err }, 'publishing deployment events failed; retrying');
        clearTimeout(retry);
        retry = setTimeout(kick, deps.retryMs ?? 2000);
        retry.unref();
      })
      .finally(() => {
        running = false;
        if (pending) {
          pending = false;
          kick();
        }
      });
  }

  return {
    events: local,
    kick,
    /** The model calls this for each appended event, inside its transaction: defer the work. */
    appended(e: DeploymentEvent): void {
      setImmediate(() => {
        local.emit('event', e);
        kick();
      });
    },
    /** Creates the node now (before a deploy is answered, so the owner can subscribe at once). */
    async prepare(deploymentId: string, owner: string): Promise<void> {
      try {
        await ensure(deploymentId, owner);
      } catch (err) {
        log.warn({ err, deployment: deploymentId }, 'could not create the event node yet; will retry when publishing');
      }
    },
    stop(): void {
      stopped = true;
      clearTimeout(retry);
    },
    async idle(): Promise<void> {
      while (running) await new Promise((r) => setTimeout(r, 10));
    },
  };
}

export type Publisher = ReturnType<typeof createPublisher>;
