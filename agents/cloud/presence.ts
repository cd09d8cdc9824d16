/**
 * The cloud agent's presence: its name, driver, and what it can still host, the smaller
 * of the quota headroom and the driver's free capacity. Sent to the server and directed
 * to every configured requester (gateways see it without a roster), and refreshed when
 * usage changes — debounced, since a burst of state changes needs one update.
 */
import type { Agent, Logger } from '../../core/index.js';
import { cloud } from '../../protocols/index.js';
import type { CloudDriver } from '../../drivers/index.js';
import type { CloudConfig } from './config.js';
import type { Catalog } from './catalog.js';
import type { Policy } from './policy.js';

type PresenceData = ReturnType<typeof cloud.CloudPresence.payload.decode>;

/** Stands for "no limit" where the wire needs a number. */
const UNLIMITED = 1_000_000;

export function cloudPresence({ agent, config, driver, catalog, policy, log }: {
  agent: Agent; config: CloudConfig; driver: CloudDriver; catalog: Catalog; policy: Policy; log: Logger;
}) {
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  let stopped = false;

  async function compute(): Promise<PresenceData> {
    const q = policy.free();
    let cap: { instances?: number; cores?: number; memoryMb?: number } = {};
    if (driver.features.has('capacity') && driver.capacity) {
      try { cap = await driver.capacity(); } catch (err) { log.debug({ error: String((err as Error)?.message) }, 'capacity query failed'); }
    }
    const min = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
    return {
      name: config.name,
      driver: config.driver,
      instances: policy.usage().instances,
      free_instances: min(q.instances, cap.instances) ?? UNLIMITED,
      free_cores: min(q.cores, cap.cores),
      free_memory_mb: min(q.memoryMb, cap.memoryMb),
      flavors: catalog.flavors.map((f) => f.generic),
      images: catalog.images.map((i) => i.generic),
    };
  }

  async function publish(): Promise<void> {
    if (stopped) return;
    const data = await compute();
    const text = JSON.stringify(data);
    if (text === last) return;
    last = text;
    await agent.setPresence(cloud.CloudPresence, data);
  }

  return {
    compute,
    async start(): Promise<void> {
      await publish();
      for (const r of config.requesters) await agent.announceTo(r);
    },
    /** Usage changed: update the presence shortly. */
    changed(): void {
      if (stopped || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        publish().catch((err) => log.warn({ err: String(err) }, 'presence update failed'));
      }, 200);
      timer.unref();
    },
    stop(): void { stopped = true; clearTimeout(timer); },
  };
}
