/**
 * The watch loop: every poll_interval, describe() the cloud, compare with the database
 * and report every change. An instance the cloud no longer lists is terminated when it
 * was asked to be, or after a grace period (a cloud may list a new instance late).
 * Changes newer than the poll's start are left alone: the snapshot may predate them.
 */
import type { Logger } from '../../core/index.js';
import type { CloudDriver, Instance } from '../../drivers/index.js';
import type { CloudConfig } from './config.js';
import type { CloudStore } from './store.js';
import type { Reporter } from './states.js';
import type { Terminator } from './terminate.js';

export function watcher({
  config,
  store,
  driver,
  states,
  terminator,
  log,
}: {
  config: CloudConfig;
  store: CloudStore;
  driver: CloudDriver;
  states: Reporter;
  terminator: Terminator;
  log: Logger;
}) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let current: Promise<void> | undefined;
  const graceMs = Math.max(30_000, 3 * config.pollMs);

  async function poll(): Promise<void> {
    const started = Date.now();
    let seen: Instance[];
    try {
      seen = await driver.describe();
    } catch (err) {
      log.warn({ error: String((err as Error)?.message ?? err) }, 'describe failed; retrying on the next poll');
      return;
    }
    if (stopped) return;
    const byId = new Map(seen.map((i) => [i.id, i]));
    for (const row of store.live()) {
      if (!row.cloud_id || row.updated_at > started) continue;
      const inst = byId.get(row.cloud_id);
      if (inst) {
        states.apply(row.name, { state: inst.state, providerState: inst.providerState, addresses: inst.addresses });
      } else if (row.terminate_requested || started - row.updated_at > graceMs) {
        states.apply(row.name, {
          state: 'terminated',
          reason: row.terminate_requested ? undefined : 'no longer listed by the cloud',
        });
      }
    }
    await terminator.retry();
  }

  const tick = () => {
    current = poll()
      .catch((err) => log.error({ err: String((err as Error)?.stack ?? err) }, 'watch poll failed'))
      .finally(() => {
        current = undefined;
        if (!stopped) {
          timer = setTimeout(tick, config.pollMs);
          timer.unref();
        }
      });
  };

  return {
    start(): void {
      stopped = false;
      tick();
    },
    /** One poll now (tests, and after a terminate to speed things up). */
    async pollNow(): Promise<void> {
      await current;
      await poll();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
