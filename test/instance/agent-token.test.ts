import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeAgent } from '../helpers/agents.js';
import { RenewToken } from '../../protocols/cloud.js';
import { InstanceStatus } from '../../protocols/instance.js';
import { SAVED_TOKEN, renewalDelayMs, jwtExpiry } from '../../agents/instance/index.js';
import {
  cloudgateFor,
  mintInstance,
  startInstance,
  startServer,
  suiteCleanup,
  tempDir,
  testGateway,
  waitFor,
} from './agent-helpers.js';

test('renewal schedule: two thirds into the life, a minute before expiry when possible, never at once', () => {
  const now = 1_000_000_000_000;
  const s = now / 1000;
  assert.equal(renewalDelayMs(s + 3600, now), 2400_000);
  assert.equal(renewalDelayMs(s + 120, now), 60_000);
  assert.equal(renewalDelayMs(s + 4, now), 1000);
  assert.equal(renewalDelayMs(s - 10, now), 1000);
  assert.equal(jwtExpiry('x.eyJleHAiOjEyM30.y'), 123);
  assert.equal(jwtExpiry('not a jwt'), undefined);
});

test('token renewal through the cloud agent; reconnects after the first token expired use the new one', async (tc) => {
  // Cleanups run last-registered first, so agents stop before their server does.
  const cleanup = suiteCleanup();
  tc.after(() => cleanup.run());
  const t = await startServer();
  cleanup.after(() => t.stop());
  const gw = await testGateway(t);
  cleanup.after(() => gw.agent.stop());
  const cloud = await makeAgent(t, 'cloud-a', { kind: 'cloud' });
  const renewedFor: string[] = [];
  cloud.handle(RenewToken, async (_req, ctx) => {
    renewedFor.push(ctx.bare);
    return mintInstance(t, ctx.bare.split('@')[0], 3600);
  });
  await cloud.start();
  cleanup.after(() => cloud.stop());

  // Two instances whose tokens die in 4 s; only the first names a cloud agent to renew it.
  const boot = async (local: string, cloudJid?: string) => {
    const root = tempDir(cleanup);
    const file = join(tempDir(cleanup), 'ctx.ini');
    writeFileSync(file, `[environment]\nA = 1\n${await cloudgateFor(t, local, { ttlS: 4, cloud: cloudJid })}`);
    return { root, ia: await startInstance(cleanup, { root, contextFile: file }) };
  };
  const [a, b] = await Promise.all([boot('vm-renew', `cloud-a@${t.host}`), boot('vm-norenew')]);
  const firstExpiry = a.ia.token.expires!;

  await waitFor(
    'a renewal, saved',
    () => renewedFor.length > 0 && a.ia.token.expires! > firstExpiry && existsSync(join(a.root, SAVED_TOKEN)),
    6000,
  );
  assert.deepEqual(renewedFor, ['vm-renew@i.localhost']);
  const saved = JSON.parse(readFileSync(join(a.root, SAVED_TOKEN), 'utf8'));
  assert.equal(saved.token, a.ia.token.token);
  assert.equal(statSync(join(a.root, SAVED_TOKEN)).mode & 0o777, 0o600);

  await waitFor('the first tokens to expire', () => Date.now() > firstExpiry * 1000 + 1200, 8000);
  const back = new Promise<void>((r) =>
    a.ia.agent.conn.on('status', (e: { type: string }) => {
      if (e.type === 'online') r();
    }),
  );
  a.ia.agent.conn.dropSocket();
  b.ia.agent.conn.dropSocket();
  await back;
  const s = await gw.agent.request(InstanceStatus, a.ia.agent.jid, {});
  assert.equal(s.instance_id, 'vm-renew');
  // The control: the same drop without renewal does not come back (the server refuses the expired token).
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(b.ia.agent.isOnline, false, 'without renewal the expired token no longer logs in');
});
