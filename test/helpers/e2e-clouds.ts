/**
 * The common start of an end-to-end suite: a real ejabberd, a temp folder, cloud agents
 * (test/gateway/e2e-setup.ts) and alice's agent. What it starts is pushed onto `stops`
 * (first the folder's removal and the server, then the clouds, then alice), so running
 * `stops` in reverse after the suite, with what the tests pushed since, stops everything in
 * the right order, even when the start failed half-way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudAgent } from '../../agents/cloud/index.js';
import type { Agent } from '../../core/index.js';
import { startCloud, startServer, type CloudSpec } from '../gateway/e2e-setup.js';
import { makeAgent } from './agents.js';
import type { TestServer } from './ejabberd.js';

export type Stops = Array<() => Promise<void>>;

export interface E2eStart {
  t: TestServer;
  dir: string;
  /** In the order of the specs. */
  clouds: CloudAgent[];
  alice: Agent;
}

/** `clouds` names the cloud agents to start; it may write files into `dir` first. */
export async function startE2e(
  prefix: string,
  stops: Stops,
  clouds: (o: { host: string; dir: string; gateway: string }) => CloudSpec[],
): Promise<E2eStart> {
  const t = await startServer();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  stops.push(
    async () => rmSync(dir, { recursive: true, force: true }),
    () => t.stop(),
  );
  const started: CloudAgent[] = [];
  for (const spec of clouds({ host: t.host, dir, gateway: `gateway@${t.host}` })) {
    const ca = await startCloud(t, dir, spec);
    started.push(ca);
    stops.push(() => ca.stop());
  }
  const alice = await makeAgent(t, 'alice');
  await alice.start();
  stops.push(() => alice.stop());
  return { t, dir, clouds: started, alice };
}

/** Runs `stops` newest first; one that fails does not keep the others from running. */
export async function runStops(stops: Stops): Promise<void> {
  for (const s of stops.reverse()) await s().catch(() => {});
}
