/**
 * What a demo killed without cleaning up (kill -9, a closed terminal) leaves behind:
 * agent processes, an ejabberd, and local instances (which by design outlive their cloud
 * agent). The next run stops them before it starts afresh, and the demo's own shutdown
 * ends any instance the cloud agent did not terminate.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../core/index.js';
import { openDriver } from '../../drivers/index.js';
import { stopStaleServer } from './server.js';

const PIDS = 'pids.json';

export function recordPids(dir: string, pids: number[]): void {
  writeFileSync(join(dir, PIDS), JSON.stringify(pids));
}

/** Terminates every instance the local driver still runs from `stateDir`; returns how many. */
export async function terminateLocalInstances(stateDir: string): Promise<number> {
  if (!existsSync(stateDir)) return 0;
  const driver = await openDriver('local', { state_dir: stateDir }, { log: createLogger({ level: 'silent' }) });
  const alive = (await driver.describe()).filter((i) => i.state !== 'terminated');
  await Promise.all(alive.map((i) => driver.terminate(i.id)));
  return alive.length;
}

export async function stopLeftovers(dir: string, stateDir: string, say: (line: string) => void): Promise<void> {
  if (!existsSync(dir)) return;
  let pids: number[] = [];
  try {
    pids = JSON.parse(readFileSync(join(dir, PIDS), 'utf8')) as number[];
  } catch {
    /* none recorded */
  }
  for (const pid of pids) {
    // A recorded pid may have been reused since: only a cloudgate agent of this demo is ours.
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (!cmd.includes('agents/cli.js agent') || !cmd.includes(dir)) continue;
    try {
      process.kill(-pid, 'SIGKILL');
      say(`stopped agent process ${pid} left by a previous demo`);
    } catch {
      /* gone */
    }
  }
  const n = await terminateLocalInstances(stateDir).catch(() => 0);
  if (n) say(`terminated ${n} instance(s) left by a previous demo`);
  await stopStaleServer(join(dir, 'ejabberd'), say);
}
