/**
 * Terminate: a requester asks to remove instances of a deployment (all of them when no
 * name is given). The wish is recorded first (terminate_requested), so it survives a
 * restart; the driver is then asked, and the watch loop follows the states down to
 * 'terminated', which releases the quota. A failed driver call is retried on each poll.
 */
import type { Logger, MessageContext } from '../../core/index.js';
import { forbidden, type cloud } from '../../protocols/index.js';
import type { CloudDriver } from '../../drivers/index.js';
import type { CloudConfig } from './config.js';
import { GONE, type CloudStore } from './store.js';
import type { Reporter } from './states.js';
import type { Provisioner } from './provisioner.js';

type TerminateMsg = ReturnType<typeof cloud.Terminate.payload.decode>;

export type Terminator = ReturnType<typeof terminator>;

export function terminator({
  config,
  store,
  driver,
  states,
  provisioner,
  log,
}: {
  config: CloudConfig;
  store: CloudStore;
  driver: CloudDriver;
  states: Reporter;
  provisioner: Provisioner;
  log: Logger;
}) {
  const busy = new Set<string>();

  async function terminateOne(name: string): Promise<void> {
    const row = store.instance(name);
    if (!row || GONE.includes(row.state) || busy.has(name)) return;
    // Not created yet: the provisioner sees the flag and never creates it; one in creation
    // is terminated on the next poll, once its cloud id is known.
    if (row.state === 'requested') {
      if (!provisioner.inFlight.has(name))
        states.apply(name, { state: 'terminated', reason: 'terminated before it was created' });
      return;
    }
    if (!row.cloud_id) return;
    busy.add(name);
    try {
      await driver.terminate(row.cloud_id);
      log.info({ name, cloudId: row.cloud_id }, 'terminate requested from the cloud');
    } catch (err) {
      log.warn({ name, error: String((err as Error)?.message ?? err) }, 'terminate failed; retried on the next poll');
    } finally {
      busy.delete(name);
    }
  }

  return {
    onTerminate(msg: TerminateMsg, ctx: MessageContext): void {
      if (!config.requesters.has(ctx.bare))
        throw forbidden(`${ctx.bare} is not a requester of cloud ${config.name}`, 'unauthorized-sender');
      const owner = msg.owner.toLowerCase();
      const rows = store
        .list({ deployment: msg.deployment })
        .filter((r) => msg.names.length === 0 || msg.names.includes(r.name));
      const foreign = rows.find((r) => r.owner !== owner || r.requester !== ctx.bare);
      if (foreign)
        throw forbidden(
          `instance ${foreign.name} of deployment ${msg.deployment} belongs to another owner or requester`,
          'not-owner',
        );
      const names = rows.filter((r) => !GONE.includes(r.state)).map((r) => r.name);
      for (const n of names) store.update(n, { terminate_requested: 1 });
      log.info({ requestId: msg.request_id, deployment: msg.deployment, count: names.length }, 'terminate recorded');
      // A store write failing here (disk full, EMFILE) must be logged, not end the agent.
      Promise.all(names.map(terminateOne)).catch((err) =>
        log.error({ err, deployment: msg.deployment }, 'recording a termination failed; retried on the next poll'),
      );
    },
    /** Re-issues terminations that did not go through (called by the watch loop). */
    async retry(): Promise<void> {
      const pending = store.live().filter((r) => r.terminate_requested && r.state !== 'stopping');
      await Promise.all(pending.map((r) => terminateOne(r.name)));
    },
  };
}
