/**
 * The deploy benchmark's baseline: the same driver, called directly in this process,
 * creating the same number of instances: one at a time as the cloud agent's provisioner
 * does, and (libvirt, whose driver locks per name) all at once. The difference to the full
 * run is what the gateway, the cloud agent and XMPP add.
 */
import type { Logger } from 'pino';
import { openDriver, type CloudDriver } from '../../drivers/index.js';
import { CONTEXT, driverOptions, type DriverKind } from './deploy-files.js';

export interface Baseline {
  sequential_s: number;
  parallel_s?: number;
}

/** Checks `signal` between creates, so an aborted run stops within one create and cleans up. */
export async function driverBaseline(
  driver: DriverKind,
  dir: string,
  count: number,
  log: Logger,
  signal: AbortSignal,
  access?: Readonly<Record<string, string>>,
): Promise<Baseline> {
  const d = await openDriver(driver, driverOptions(driver, dir, count, access), { log });
  const create = (name: string) =>
    d.create({
      name,
      flavorId: 'tiny',
      imageId: 'cernvm-4',
      userData: CONTEXT,
      tags: { deployment: 'baseline', service: 'worker', owner: 'bench@localhost' },
    });
  try {
    let t = performance.now();
    for (let i = 0; i < count; i++) {
      signal.throwIfAborted();
      await create(`seq-${i}`);
    }
    const out: Baseline = { sequential_s: (performance.now() - t) / 1000 };
    await removeAll(d);
    if (driver === 'libvirt') {
      signal.throwIfAborted();
      t = performance.now();
      await Promise.all(Array.from({ length: count }, (_, i) => create(`par-${i}`)));
      out.parallel_s = (performance.now() - t) / 1000;
      await removeAll(d);
    }
    return out;
  } finally {
    await removeAll(d).catch(() => undefined);
    await d.close();
  }
}

/** Terminates every instance the driver sees (a local instance is a process group). */
export async function removeAll(d: CloudDriver): Promise<number> {
  const all = (await d.describe()).filter((i) => i.state !== 'terminated');
  await Promise.all(all.map((i) => d.terminate(i.id)));
  return all.length;
}
