import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EjabberdServer } from '../../ejabberd/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import {
  INSTANCE_HOST,
  cloudgateFor,
  startInstance,
  startServer,
  suiteCleanup,
  tempDir,
  testGateway,
  waitFor,
} from './agent-helpers.js';

test('the server is not up yet: the agent keeps trying (jittered backoff) and joins once it is', async (tc) => {
  const cleanup = suiteCleanup();
  tc.after(() => cleanup.run());
  const dir = mkdtempSync(join(tmpdir(), 'cgt-ejabberd-'));
  cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await EjabberdServer.prepare({
    dir,
    logLevel: 'warning',
    extraHosts: [{ name: INSTANCE_HOST, ownJwtKey: true }],
  });
  cleanup.after(() => server.stop());
  const t = { server, host: server.info.host, ca: readFileSync(server.info.certFile, 'utf8') } as TestServer;

  const file = join(tempDir(cleanup), 'ctx.ini');
  writeFileSync(file, `[environment]\nA = 1\n${await cloudgateFor(t, 'vm-early')}`);
  const started = Date.now();
  const booting = startInstance(cleanup, { root: tempDir(cleanup), contextFile: file, maxStartAttempts: 40 });
  await new Promise((r) => setTimeout(r, 1500));
  await server.start();
  const ia = await booting;
  assert.ok(Date.now() - started >= 1500, 'it could not have joined before the server started');
  assert.equal(ia.agent.isOnline, true);
  assert.equal(ia.life.phase, 'ready');
});

test('a restarted gateway gets heartbeats again (the instance re-announces itself)', async (tc) => {
  const cleanup = suiteCleanup();
  tc.after(() => cleanup.run());
  const t = await startServer();
  cleanup.after(() => t.stop());
  const gw1 = await testGateway(t);
  const file = join(tempDir(cleanup), 'ctx.ini');
  writeFileSync(file, `[environment]\nA = 1\n${await cloudgateFor(t, 'vm-beat')}`);
  await startInstance(cleanup, { root: tempDir(cleanup), contextFile: file, heartbeatIntervalS: 0.2 });
  await waitFor('a beat at the first gateway', () => gw1.beats.length > 0);
  await gw1.agent.stop();

  const gw2 = await testGateway(t);
  cleanup.after(() => gw2.agent.stop());
  const beat = await waitFor(
    'beats at the restarted gateway',
    () => gw2.beats.find((b) => b.instance_id === 'vm-beat'),
    15_000,
  );
  assert.equal(beat.phase, 'ready');
  await waitFor('its presence too', () =>
    gw2.presences.find((p) => p.instance_id === 'vm-beat' && p.phase === 'ready'),
  );
});
