import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Shutdown } from '../../protocols/instance.js';
import { cloudgateFor, startServer, suiteCleanup, tempDir, testGateway, waitFor } from './agent-helpers.js';
import { closedPort } from './helpers.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'agents', 'instance', 'main.js');

/** Runs main.js as the local driver does: environment only. */
async function spawnAgent(cleanup: { after(fn: () => unknown): void }, env: Record<string, string>) {
  const root = tempDir(cleanup);
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
