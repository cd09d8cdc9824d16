/**
 * One test cloud per test run. Starting one takes about a minute, so scripts/run-tests.mjs
 * starts it once (main.ts, in the background while other files run) when the run has
 * OpenStack files, and names its state file in CLOUDGATE_OPENSTACK_STATE; every file
 * waits for it here. A file run on its own (node --test <file>) starts a cloud of its own,
 * removed when its process exits. Tests never share projects: see testProject().
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient } from './admin.js';
import { type CloudInfo, OpenStackCloud } from './cloud.js';

export const STATE_ENV = 'CLOUDGATE_OPENSTACK_STATE';

export type CloudState =
  | { status: 'starting'; pid: number }
  | { status: 'ready'; info: CloudInfo }
  | { status: 'failed'; reason: string };

export interface TestCloud {
  info: CloudInfo;
  admin: AdminClient;
}

let mine: Promise<TestCloud> | undefined;

/** The run's test cloud, once ready; fails in one line when it could not start. */
export function testCloud(timeoutMs = 660_000): Promise<TestCloud> {
  const stateFile = process.env[STATE_ENV];
  if (!stateFile) {
    mine ??= startOwn();
    return mine;
  }
  return waitForState(stateFile, timeoutMs);
}

async function waitForState(stateFile: string, timeoutMs: number): Promise<TestCloud> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let state: CloudState | undefined;
    try {
      state = JSON.parse(readFileSync(stateFile, 'utf8')) as CloudState;
    } catch {
      state = undefined; // not written yet, or being replaced
    }
    if (state?.status === 'ready')
      return { info: state.info, admin: new AdminClient(state.info.endpoints, state.info.password) };
    if (state?.status === 'failed') throw new Error(`OpenStack test cloud could not start: ${state.reason}`);
    if (state?.status === 'starting' && !alive(state.pid))
      throw new Error(`OpenStack test cloud could not start: its starter (pid ${state.pid}) ended without a word`);
    if (Date.now() > end)
      throw new Error(
        `OpenStack test cloud was not ready within ${Math.round(timeoutMs / 1000)} s (state ${stateFile})`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function startOwn(): Promise<TestCloud> {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-openstack-'));
  try {
    const cloud = await OpenStackCloud.start({ dir });
    // The daemons are killed by their own exit hook; the directory goes with them.
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return { info: cloud.info, admin: cloud.admin };
  } catch (err) {
    throw new Error(`OpenStack test cloud could not start: ${(err as Error).message}`);
  }
}
