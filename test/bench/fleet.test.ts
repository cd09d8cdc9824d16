/**
 * The agents benchmark's fleet and collector against a real ejabberd: real instance agents
 * with their own identities log in, the collector sees them ready through presence, a
 * fan-out reaches every one, a JID their contexts do not allow is refused by each, a login
 * that cannot succeed is counted as failed, and stopping the fleet takes every agent offline.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Agent, loadJwtKey } from '../../core/index.js';
import { collector, startFleet, type Collector, type FleetOptions } from '../../bench/lib/index.js';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { makeAgent, silent } from '../helpers/agents.js';

const VMS = 'vms.localhost';
let t: TestServer;
let agent: Agent;
let c: Collector;
let dir: string;

before(async () => {
  t = await startEjabberd({ extraHosts: [{ name: VMS, ownJwtKey: true }] }, { cleanup: false });
  dir = mkdtempSync(join(tmpdir(), 'cgt-bench-fleet-'));
  agent = await makeAgent(t, 'collector', { kind: 'bench' });
  c = collector(agent);
  await agent.start();
});
after(async () => {
  await agent?.stop();
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function options(prefix: string, count: number, commander: string): Promise<FleetOptions> {
  return {
    prefix,
    count,
    domain: VMS,
    key: await loadJwtKey(t.server.info.hostJwtKeyFiles[VMS]!),
    server: { host: t.server.info.ip, port: t.server.info.c2sPort },
    ca: t.ca,
    commander,
    dir,
    concurrency: 2,
    attempts: 2,
    loginTimeoutMs: 15_000,
    heartbeatS: 3600,
    log: silent,
    signal: new AbortController().signal,
  };
}

test('a fleet logs in, is seen ready, answers a fan-out, and goes offline when stopped', {
  timeout: 60_000,
}, async () => {
  const fleet = await startFleet(await options('ok', 4, agent.bare));
  try {
    assert.equal(fleet.failed, 0, fleet.firstError);
    assert.deepEqual(
      fleet.bares,
      ['ok-0000', 'ok-0001', 'ok-0002', 'ok-0003'].map((n) => `${n}@${VMS}`),
    );
    assert.equal(fleet.loginMs.length, 4);
    await c.allReady(fleet.bares, 10_000, new AbortController().signal);
    assert.equal(c.readyOf(fleet.bares), 4);
    const jids = c.jidsOf(fleet.bares);
    assert.ok(
      jids.every((j) => j.includes('/')),
      'full JIDs: requests go to the session',
    );
    const f = await c.fanout(jids, 5000);
    assert.equal(f.ok, 4, f.error);
    assert.equal(f.failed, 0);
    assert.ok(f.reply_ms_p99 <= f.ms);
    assert.equal(fleet.disconnects, 0);
  } finally {
    await fleet.stop();
  }
  const deadline = Date.now() + 10_000;
  while (c.readyOf(fleet.bares) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(c.readyOf(fleet.bares), 0, 'unavailable presence reached the collector');
});

test("a JID the agents' contexts do not allow is refused, and its fan-out counts every refusal", {
  timeout: 60_000,
}, async () => {
  const fleet = await startFleet(await options('other', 2, agent.bare));
  try {
    await c.allReady(fleet.bares, 10_000, new AbortController().signal);
    const stranger = await makeAgent(t, 'stranger', { kind: 'bench' });
    const sc = collector(stranger);
    await stranger.start();
    try {
      const f = await sc.fanout(c.jidsOf(fleet.bares), 5000);
      assert.equal(f.ok, 0);
      assert.equal(f.failed, 2);
      assert.match(f.error ?? '', /not.authorized|not allowed|may not/);
    } finally {
      await stranger.stop();
    }
  } finally {
    await fleet.stop();
  }
});

test('a login that cannot succeed is retried, then counted as failed with its reason', {
  timeout: 60_000,
}, async () => {
  // Tokens minted with the main host's key are not valid for the instance host.
  const o = { ...(await options('bad', 1, agent.bare)), key: await loadJwtKey(t.server.info.jwtKeyFile) };
  const fleet = await startFleet(o);
  await fleet.stop();
  assert.equal(fleet.failed, 1);
  assert.equal(fleet.retries, 1);
  assert.deepEqual(fleet.bares, []);
  assert.match(fleet.firstError ?? '', /not-authorized/);
});
