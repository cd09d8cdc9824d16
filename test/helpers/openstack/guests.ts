/**
 * SIMULATED GUESTS. Nova's fake virt driver runs no guest, so nothing would read a
 * server's user-data or start its instance agent. This stands in for the guest, as the
 * libvirt test driver's simulate_guest does: for each ACTIVE server of a project it reads
 * back, as admin, the user-data Nova stored (`OS-EXT-SRV-ATTR:user_data`, compute
 * microversion >= 2.3) and runs a real instance agent process with exactly that context;
 * when the server is gone from Nova, the process is stopped. So the context takes its
 * whole path through Nova, and readiness comes from a real instance agent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCommand, type GuestHandle, spawnGuest, stopGuest } from '../../../drivers/shared/index.js';
import type { TestCloud } from './shared.js';

export interface SimulatedGuests {
  /** Server ids whose guest runs. */
  running(): string[];
  stop(): Promise<void>;
}

export interface GuestOptions {
  /** Guests start only once this holds (a test's way of keeping a deployment in progress). */
  bootWhen?: () => boolean;
  everyMs?: number;
}

interface Server {
  id: string;
  status: string;
  'OS-EXT-SRV-ATTR:user_data'?: string | null;
}

export function simulateGuests(
  cloud: TestCloud,
  projectId: string,
  dir: string,
  o: GuestOptions = {},
): SimulatedGuests {
  const guests = new Map<string, GuestHandle>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const tick = async () => {
    const { servers } = await cloud.admin.call<{ servers: Server[] }>(
      'nova',
      'GET',
      `/servers/detail?all_tenants=1&project_id=${projectId}`,
      undefined,
      { 'openstack-api-version': 'compute 2.3' },
    );
    const live = new Set(servers.filter((s) => s.status !== 'DELETED').map((s) => s.id));
    for (const [id, h] of guests) {
      if (live.has(id)) continue;
      guests.delete(id);
      await stopGuest(h, 2000);
    }
    if (o.bootWhen && !o.bootWhen()) return;
    for (const s of servers) {
      if (s.status !== 'ACTIVE' || guests.has(s.id) || stopped) continue;
      const userData = Buffer.from(s['OS-EXT-SRV-ATTR:user_data'] ?? '', 'base64').toString('utf8');
      const gdir = join(dir, s.id);
      mkdirSync(gdir, { recursive: true });
      writeFileSync(join(gdir, 'user-data'), userData, { mode: 0o600 });
      guests.set(
        s.id,
        await spawnGuest(gdir, defaultCommand(), {
          CLOUDGATE_CONTEXT_FILE: join(gdir, 'user-data'),
          CLOUDGATE_INSTANCE_ID: s.id,
        }),
      );
    }
  };
  const loop = () => {
    if (stopped) return;
    tick()
      .catch(() => undefined) // a busy cloud answers late; the next round tries again
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, o.everyMs ?? 300);
      });
  };
  loop();
  return {
    running: () => [...guests.keys()],
    async stop() {
      stopped = true;
      clearTimeout(timer);
      for (const h of guests.values()) await stopGuest(h, 2000);
      guests.clear();
    },
  };
}
