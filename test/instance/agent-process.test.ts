import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InstanceStatus, Recontextualize, Shutdown } from '../../protocols/instance.js';
import { cloudgateFor, startServer, suiteCleanup, tempDir, testGateway, waitFor } from './agent-helpers.js';
import { closedPort } from './helpers.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'agents', 'instance', 'main.js');

/** Runs main.js as the local driver does: environment only. */
async function spawnAgent(
  cleanup: { after(fn: () => unknown): void },
  env: Record<string, string>,
  prepare?: (root: string) => void,
) {
  const root = tempDir(cleanup);
  prepare?.(root);
  const drive = join(root, 'no-config-drive');
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      CLOUDGATE_LOG_LEVEL: 'warn',
      CLOUDGATE_ROOT: root,
      CLOUDGATE_CONFIG_DRIVE: drive,
      CLOUDGATE_METADATA_URL: `http://127.0.0.1:${await closedPort()}/latest/user-data`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  cleanup.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child: child as ChildProcess, root, exited, stderr: () => stderr };
}

test('node dist/agents/instance/main.js: comes online from CLOUDGATE_CONTEXT_FILE, exits 0 on Shutdown', async (tc) => {
  const cleanup = suiteCleanup();
  tc.after(() => cleanup.run());
  const t = await startServer();
  cleanup.after(() => t.stop());
  const gw = await testGateway(t);
  cleanup.after(() => gw.agent.stop());
  const file = join(tempDir(cleanup), 'context.ini');
  writeFileSync(file, `[files]\n/etc/motd =\n    from a real process\n${await cloudgateFor(t, 'vm-proc')}`);
  const p = await spawnAgent(cleanup, { CLOUDGATE_CONTEXT_FILE: file, CLOUDGATE_INSTANCE_ID: 'i-proc' });

  const ready = await waitFor(
    "the process's ready presence",
    () => gw.presences.find((x) => x.instance_id === 'i-proc' && x.phase === 'ready'),
    15000,
  ).catch((err) => {
    throw new Error(`${err.message}; agent stderr:\n${p.stderr()}`);
  });
  assert.ok(existsSync(join(p.root, 'etc/motd')), 'the context was applied under CLOUDGATE_ROOT');
  assert.ok(existsSync(join(p.root, 'var/lib/cloudgate/agent.db')), 'its outbox lives under the root');
  await gw.agent.request(Shutdown, ready.jid, { reason: 'test over' });
  assert.equal(await p.exited, 0);
});

test('main.js with no context anywhere: exits 2 and says what it tried', async (tc) => {
  const cleanup = suiteCleanup();
  tc.after(() => cleanup.run());
  const p = await spawnAgent(cleanup, {});
  assert.equal(await p.exited, 2);
  assert.match(p.stderr(), /no context found; tried:/);
  assert.match(p.stderr(), /file \$CLOUDGATE_CONTEXT_FILE: not set/);
});

test('main.js whose records cannot be written lives on: each failed write is logged with its path and code and reported', async (tc) => {
  const cleanup = suiteCleanup();
  tc.after(() => cleanup.run());
  const t = await startServer();
  cleanup.after(() => t.stop());
  const gw = await testGateway(t);
  cleanup.after(() => gw.agent.stop());
  const file = join(tempDir(cleanup), 'context.ini');
  writeFileSync(file, `[files]\n/etc/motd =\n    v1\n${await cloudgateFor(t, 'vm-rofs')}`);
  // A directory where each record's file should be: rename() fails with EISDIR every time,
  // as root too (a mode bit would not stop root), like a disk gone bad under one path.
  const blockFile = (root: string, rel: string) => mkdirSync(join(root, rel, 'in-the-way'), { recursive: true });
  const p = await spawnAgent(cleanup, { CLOUDGATE_CONTEXT_FILE: file, CLOUDGATE_INSTANCE_ID: 'i-rofs' }, (root) =>
    blockFile(root, 'var/lib/cloudgate/context.json'),
  );
  const fail = (err: Error) => {
    throw new Error(`${err.message}; exit ${p.child.exitCode}; agent stderr:\n${p.stderr()}`);
  };

  const ready = await waitFor(
    "the process's ready presence",
    () => gw.presences.find((x) => x.instance_id === 'i-rofs' && x.phase === 'ready'),
    15000,
  ).catch(fail);
  const boot = await waitFor('the boot report', () => gw.reports.find((r) => r.instance_id === 'i-rofs')).catch(fail);
  assert.equal(boot.ok, true, 'the context itself applied');
  const state = boot.results.find((r: { plugin: string }) => r.plugin === 'state');
  assert.equal(state?.status, 'failed', JSON.stringify(boot.results));
  assert.match(state.message, /context\.json \(EISDIR\)/);
  assert.deepEqual(state.detail, { path: '/var/lib/cloudgate/context.json', code: 'EISDIR' });
  await waitFor('a log line naming the path and code', () =>
    p
      .stderr()
      .split('\n')
      .find((l) => l.includes('"code":"EISDIR"') && l.includes('context.json')),
  ).catch(fail);

  // A new version whose saved copy cannot be written either: answered, reported, not stuck.
  blockFile(p.root, 'var/lib/cloudgate/context.ini.json');
  const moved = await gw.agent.request(Recontextualize, ready.jid, {
    context: `[files]\n/etc/motd =\n    v2\n${await cloudgateFor(t, 'vm-rofs', { version: 2 })}`,
    version: 2,
  });
  assert.equal(moved.version, 2);
  const unsaved = (moved.results as Array<{ plugin: string; detail?: unknown }>).filter((r) => r.plugin === 'state');
  assert.deepEqual(
    unsaved.map((r) => r.detail),
    [
      { path: '/var/lib/cloudgate/context.json', code: 'EISDIR' },
      { path: '/var/lib/cloudgate/context.ini.json', code: 'EISDIR' },
    ],
  );
  const status = await gw.agent.request(InstanceStatus, ready.jid, {});
  assert.equal(status.phase, 'ready', 'not left contextualizing');
  assert.equal(p.child.exitCode, null, 'the process is still running');
  await gw.agent.request(Shutdown, ready.jid, { reason: 'test over' });
  assert.equal(await p.exited, 0);
});
