/**
 * A cloud agent killed between starting an instance's process and recording its pid (the
 * window the kill -9 fault test hits now and then) leaves a record without a pid beside a
 * running instance. The local driver must find that process again, adopt it (so a resumed
 * create does not start a second one under the same name), and stop it on terminate: it
 * must never run on as an orphan.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, sleep } from '../../core/index.js';
import { openDriver, type CloudDriver } from '../../drivers/index.js';
import { alive, guestCommand } from '../helpers/guest.js';
import { killProcessesOf, watchOver } from '../helpers/watchdog.js';

const base = mkdtempSync(join(tmpdir(), 'cgt-interrupted-'));
watchOver(base, { remove: true });
after(() => {
  killProcessesOf(base);
  rmSync(base, { recursive: true, force: true });
});
const log = createLogger({ level: 'silent' });

const open = (stateDir: string): Promise<CloudDriver> =>
  openDriver('local', { state_dir: stateDir, command: guestCommand(base), kill_grace_ms: '500' }, { log });
const req = (name: string) => ({
  name,
  flavorId: 'small',
  imageId: 'local',
  userData: '[amiconfig]\n',
  tags: { deployment: 'd', service: 's', owner: 'o' },
});

/** What an interrupted create leaves: the process runs (up and idle), the record has no pid. */
async function forgetPid(stateDir: string, id: string): Promise<number> {
  for (let i = 0; i < 100 && !existsSync(join(stateDir, id, 'root', 'seen.json')); i++) await sleep(50);
  const file = join(stateDir, id, 'instance.json');
  const rec = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; pidStartTime: string | null };
  const pid = rec.pid;
  writeFileSync(file, JSON.stringify({ ...rec, pid: null, pidStartTime: null }));
  return pid;
}

/** Creates `name` in a driver on `stateDir`, closes it, forgets the pid, and reopens the driver (a restarted cloud agent's). */
async function interrupted(stateDir: string, name: string): Promise<{ id: string; pid: number; d: CloudDriver }> {
  const first = await open(stateDir);
  const inst = await first.create(req(name));
  await first.close();
  const pid = await forgetPid(stateDir, inst.id);
  return { id: inst.id, pid, d: await open(stateDir) };
}

test('an instance whose pid was never recorded is adopted, found again by name, and stopped on terminate', {
  timeout: 30_000,
}, async () => {
  const { id, pid, d } = await interrupted(join(base, 'adopt'), 'vm-1');
  assert.ok(alive(pid));

  const [seen] = await d.describe();
  assert.equal(seen?.state, 'running', 'the running process is the instance');
  assert.equal(seen?.extra.pid, pid, 'its pid is recorded again');
  const again = await d.create(req('vm-1'));
  assert.equal(again.id, id, 'a resumed create finds it: no second instance');
  assert.equal((await d.describe()).filter((i) => i.state !== 'terminated').length, 1);

  await d.terminate(id);
  assert.ok(!alive(pid), 'terminate stopped its process');
  assert.equal((await d.describe([id]))[0]?.state, 'terminated');
});

test('terminate stops the process of a record without a pid even before anything adopted it', {
  timeout: 30_000,
}, async () => {
  const { id, pid, d } = await interrupted(join(base, 'terminate'), 'vm-2');
  await d.terminate(id);
  for (let i = 0; i < 20 && alive(pid); i++) await sleep(100);
  assert.ok(!alive(pid), 'no orphan left running');
});

test('a record without a pid and without a process stays an instance in error', { timeout: 30_000 }, async () => {
  const stateDir = join(base, 'none');
  const first = await open(stateDir);
  const inst = await first.create(req('vm-3'));
  const pid = await forgetPid(stateDir, inst.id);
  process.kill(-pid, 'SIGKILL');
  for (let i = 0; i < 20 && alive(pid); i++) await sleep(100);
  const d = await open(stateDir);
  assert.equal((await d.describe([inst.id]))[0]?.state, 'error');
  await d.terminate(inst.id);
  assert.equal((await d.describe([inst.id]))[0]?.state, 'terminated');
});
