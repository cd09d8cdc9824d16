/**
 * The cloud agent's presence: its name, driver, and what it can still host, the smaller
 * of the quota headroom and the driver's free capacity less what is waiting to be created
 * (decision.ts, as allocation decides it). Sent to the server and directed
 * to every configured requester (gateways see it without a roster), and refreshed when
 * usage changes — debounced, since a burst of state changes needs one update.
 */
import type { Agent, Logger } from '../../core/index.js';
import { cloud } from '../../protocols/index.js';
import type { CloudConfig } from './config.js';
import type { Catalog } from './catalog.js';
import type { Policy } from './policy.js';
import type { AdmissionGate } from './decision.js';

type PresenceData = ReturnType<typeof cloud.CloudPresence.payload.decode>;

/** Stands for "no limit" where the wire needs a number. */
const UNLIMITED = 1_000_000;

export function cloudPresence({
  agent,
  config,
  catalog,
  policy,
  gate,
  log,
}: {
  agent: Agent;
  config: CloudConfig;
  catalog: Catalog;
  policy: Policy;
  gate: AdmissionGate;
  log: Logger;
}) {
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  let stopped = false;
  /** How long the last compute took: a driver's free capacity may list every instance. */
  let computeMs = 0;

  async function compute(): Promise<PresenceData> {
    const t0 = performance.now();
    const free = await gate.free();
    computeMs = performance.now() - t0;
    return {
      name: config.name,
      driver: config.driver,
      instances: policy.usage().instances,
      free_instances: free.instances ?? UNLIMITED,
      free_cores: free.cores,
      free_memory_mb: free.memoryMb,
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
    /**
     * Usage changed: update the presence shortly. The delay grows with what an update
     * costs (5 times the last one's time, 0.2 to 5 s): on the test hypervisor with a
     * thousand domains, reading the free capacity took tens of milliseconds, and updates
     * 200 ms apart were most of the cloud agent's CPU while it created them.
     */
    changed(): void {
      if (stopped || timer) return;
      timer = setTimeout(
        () => {
          timer = undefined;
          publish().catch((err) => log.warn({ err: String(err) }, 'presence update failed'));
        },
        Math.min(5000, Math.max(200, 5 * computeMs)),
      );
      timer.unref();
    },
    stop(): void {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
