/**
 * Creates the instances recorded as 'requested', up to `create_concurrency` at once, and sends each request's
 * AllocateResult once none of its instances is still waiting. It runs after each accepted
 * allocation and at start-up, so an agent that stopped (or died) mid-request finishes the
 * job: the driver's create() is idempotent by name, so an instance created just before
 * the stop is found again, not created twice.
 */
import type { Agent, Logger } from '../../core/index.js';
import { cloud } from '../../protocols/index.js';
import type { CloudDriver } from '../../drivers/index.js';
import type { CloudConfig } from './config.js';
import type { Catalog } from './catalog.js';
import type { CloudStore, InstanceRow } from './store.js';
import type { Reporter } from './states.js';
import { refusalOf, type Scrub } from './errors.js';
import { buildUserData, type Tokens } from './userdata.js';
import { createHash } from 'node:crypto';
import { isAppCondition } from '../../errors/index.js';

export type Provisioner = ReturnType<typeof provisioner>;

export function provisioner({
  agent,
  store,
  config,
  driver,
  catalog,
  states,
  tokens,
  log,
  scrub,
}: {
  agent: Agent;
  store: CloudStore;
  config: CloudConfig;
  driver: CloudDriver;
  catalog: Catalog;
  states: Reporter;
  tokens: Tokens;
  log: Logger;
  scrub: Scrub;
}) {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  /** Names whose create() is under way: Terminate waits for these through the watch loop. */
  const inFlight = new Set<string>();
  /** Instances already waiting when this agent started: their create may have been interrupted. */
  const resumed = new Set(store.requested().map((r) => r.name));

  async function create(snapshot: InstanceRow): Promise<void> {
    // Re-read: a Terminate may have arrived since the pass listed it.
    const row = store.instance(snapshot.name);
    if (row?.state !== 'requested') return;
    const req = store.request(row.request)!;
    if (row.terminate_requested) {
      states.apply(row.name, { state: 'terminated', reason: 'terminated before it was created' });
      return;
    }
    const flavor = catalog.flavor(row.flavor);
    const image = catalog.image(row.image);
    inFlight.add(row.name);
    try {
      if (!flavor || !image) throw new Error(`mapping for ${row.flavor}/${row.image} is gone`);
      const userData = await buildUserData(
        { config, tokens, pubsub: agent.pubsub.service, cloud: agent.bare },
        req,
        row,
      );
      const spec = {
        name: row.name,
        flavorId: flavor.id,
        imageId: image.id,
        userData,
        tags: { deployment: row.deployment, service: row.service, owner: row.owner, cloud: config.name },
      };
      let inst = await driver.create(spec);
      // A create interrupted by our own stop can leave a broken instance under the name;
      // create() returns it as is, so it is replaced once instead of being adopted.
      if (inst.state === 'error' && resumed.has(row.name)) {
        log.warn({ name: row.name, cloudId: inst.id }, 'replacing an instance left broken by an interrupted create');
        resumed.delete(row.name);
        await driver.terminate(inst.id);
        inst = await driver.create(spec);
      }
      if (stopped) return;
      states.apply(row.name, {
        state: inst.state,
        cloudId: inst.id,
        providerState: inst.providerState,
        addresses: inst.addresses,
      });
    } catch (err) {
      if (stopped) return;
      const { condition, message } = refusalOf(err);
      const reason = scrub(message);
      log.warn({ name: row.name, condition, reason }, 'instance creation refused');
      if (!(err instanceof Error && 'kind' in err))
        log.error({ err: String((err as Error)?.stack ?? err) }, 'unexpected create failure');
      store.refuse(row.request, row.name, condition, reason);
      states.apply(row.name, { state: 'failed', reason });
    } finally {
      inFlight.delete(row.name);
    }
  }

  /** Result message ids derive from the request, so a re-send after a restart is de-duplicated by the receiver. */
  async function sendResult(key: string): Promise<void> {
    const req = store.request(key);
    if (!req || req.result_sent) return;
    const refused = new Set(req.refused);
    const accepted = req.names.filter((n) => !refused.has(n) && store.instance(n)?.state !== 'failed');
    const id = `alloc-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
    await agent.sendReliable(
      cloud.AllocateResult,
      req.requester,
      {
        request_id: req.request_id,
        deployment: req.deployment,
        service: req.service,
        accepted,
        refused: [...refused],
        // Stored from a RefusalCondition; read back as text.
        condition: refused.size && req.condition && isAppCondition(req.condition) ? req.condition : undefined,
        reason: refused.size && req.reason ? scrub(req.reason).slice(0, 2048) : undefined,
      },
      id,
    );
    store.markResultSent(key);
    log.info(
      { requestId: req.request_id, deployment: req.deployment, accepted: accepted.length, refused: refused.size },
      'allocation answered',
    );
  }

  async function pass(): Promise<void> {
    for (;;) {
      again = false;
      // A small pool: cloud APIs answer one create in hundreds of milliseconds, and the
      // drivers serialize what must be (name lookups, capacity) themselves.
      const rows = store.requested().filter((r) => !inFlight.has(r.name));
      let next = 0;
      const worker = async () => {
        while (next < rows.length && !stopped) await create(rows[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(config.createConcurrency, rows.length) }, worker));
      if (stopped) return;
      for (const r of store.unsentResults()) {
        if (stopped) return;
        await sendResult(r.key);
      }
      if (!again || stopped) return;
    }
  }

  return {
    inFlight: inFlight as ReadonlySet<string>,
    sendResult,
    /** Starts a pass (or asks the running one to go round again). */
    kick(): Promise<void> {
      if (stopped) return Promise.resolve();
      if (running) {
        again = true;
        return running;
      }
      running = pass()
        .catch((err) => log.error({ err: String((err as Error)?.stack ?? err) }, 'provisioning pass failed'))
        .finally(() => {
          running = undefined;
        });
      return running;
    },
    stop(): void {
      stopped = true;
    },
  };
}
