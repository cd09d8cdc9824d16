/**
 * What the fault tests look at, from three independent sides: the gateway's answer
 * (Status through the client library), the cloud side (the local driver's own state
 * directory, and the instance-agent processes the operating system actually runs), and
 * the gateway's history (its database's events and jobs tables, read-only).
 */
import { readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createLogger, sleep } from '../../core/index.js';
import { openDriver, type Instance } from '../../drivers/index.js';
import type { DeploymentView, GatewayClient } from '../../agents/gateway/client.js';

const quiet = createLogger({ level: 'silent' });

/** Instances the local driver still runs (anything not terminated: running, stopping, error). */
export async function cloudInstances(stateDir: string): Promise<Instance[]> {
  const driver = await openDriver('local', { state_dir: stateDir }, { log: quiet });
  try {
    return (await driver.describe()).filter((i) => i.state !== 'terminated');
  } finally {
    await driver.close();
  }
}

export interface AgentProc {
  pid: number;
  instanceId: string;
  stopped: boolean;
}

/**
 * Instance-agent processes living under `stateDir`, found from /proc rather than from any
 * record: a process the driver lost track of (an orphan) is found too.
 */
export function instanceProcesses(stateDir: string): AgentProc[] {
  const out: AgentProc[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (!cmd.includes('agents/instance/main.js') || cmd.startsWith('/bin/sh')) continue;
      const env = readFileSync(`/proc/${e}/environ`, 'utf8').split('\0');
      const rootVar = env.find((v) => v.startsWith('CLOUDGATE_ROOT='));
      if (!rootVar?.slice('CLOUDGATE_ROOT='.length).startsWith(`${stateDir}/`)) continue;
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state === 'Z' || state === 'X') continue;
      const id = env.find((v) => v.startsWith('CLOUDGATE_INSTANCE_ID='))?.slice('CLOUDGATE_INSTANCE_ID='.length) ?? '';
      out.push({ pid: Number(e), instanceId: id, stopped: state === 'T' || state === 't' });
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return out;
}

export interface HistoryEvent {
  seq: number;
  type: string;
  message: string;
  data: unknown;
}
export interface HistoryJob {
  kind: string;
  state: string;
  error: string | null;
}

/** The deployment's events and jobs as the gateway stored them. */
export function history(dbFile: string, deployment: string): { events: HistoryEvent[]; jobs: HistoryJob[] } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const events = (
      db
        .prepare('SELECT seq, type, message, data FROM events WHERE deployment_id = ? ORDER BY seq')
        .all(deployment) as Array<{ seq: number; type: string; message: string; data: string | null }>
    ).map((r) => ({ ...r, data: r.data === null ? undefined : (JSON.parse(r.data) as unknown) }));
    const jobs = db
      .prepare('SELECT kind, state, error FROM jobs WHERE deployment_id = ? ORDER BY created_at, rowid')
      .all(deployment) as HistoryJob[];
    return { events, jobs };
  } finally {
    db.close();
  }
}

export interface Snapshot {
  view: DeploymentView;
  /** Instances the gateway keeps (not terminated), by their cloud-side name. */
  gateway: string[];
  cloud: string[];
  procs: AgentProc[];
}

export async function snapshot(client: GatewayClient, stateDir: string, id: string): Promise<Snapshot> {
  const view = await client.status(id);
  const gateway = view.instances
    .filter((i) => i.state !== 'terminated')
    .map((i) => `${id}-${i.name}`)
    .sort();
  const cloud = (await cloudInstances(stateDir)).map((i) => i.name).sort();
  return { view, gateway, cloud, procs: instanceProcesses(stateDir) };
}

/** Everything at rest with `n` instances: nothing still failing, terminating or booting anywhere. */
export function settled(s: Snapshot, n: number): boolean {
  const live = s.view.instances.filter((i) => i.state !== 'terminated');
  return (
    s.view.state === 'completed' &&
    live.length === n &&
    live.every((i) => i.state === 'running' && i.ready) &&
    s.cloud.length === n &&
    s.procs.length === n
  );
}

export function describeSnapshot(s: Snapshot): string {
  const states = new Map<string, number>();
  for (const i of s.view.instances)
    states.set(`${i.state}${i.ready ? '+ready' : ''}`, (states.get(`${i.state}${i.ready ? '+ready' : ''}`) ?? 0) + 1);
  return (
    `deployment ${s.view.state}; gateway instances ${JSON.stringify(Object.fromEntries(states))}; ` +
    `cloud lists ${s.cloud.length}; ${s.procs.length} instance processes (${s.procs.filter((p) => p.stopped).length} stopped)`
  );
}

/** Polls until `check` holds, or fails after `ms` with what was last seen. */
export async function waitUntil<T>(
  what: string,
  read: () => Promise<T>,
  check: (v: T) => boolean,
  ms: number,
  show: (v: T) => string,
  every = 250,
): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await read();
      if (check(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end) {
      throw new Error(
        `timed out after ${Math.round(ms / 1000)} s waiting for ${what}: ${last !== undefined ? show(last) : 'nothing read'}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ''}`,
      );
    }
    await sleep(every);
  }
}

/** The last lines each named (cloud-side name) instance's process wrote (local driver console logs), to tell why it died. */
export function consoleTails(stateDir: string, names: readonly string[], lines = 30): string[] {
  const out: string[] = [];
  for (const d of readdirSync(stateDir)) {
    try {
      const rec = JSON.parse(readFileSync(`${stateDir}/${d}/instance.json`, 'utf8')) as { name?: string };
      if (!rec.name || !names.includes(rec.name)) continue;
      const log = readFileSync(`${stateDir}/${d}/console.log`, 'utf8').trimEnd().split('\n').slice(-lines);
      out.push(`${rec.name} (${d}):`, ...log.map((l) => `  ${l.slice(0, 400)}`));
    } catch {
      /* not an instance directory, or no log */
    }
  }
  return out;
}
