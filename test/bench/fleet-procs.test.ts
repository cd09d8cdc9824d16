/**
 * The agents benchmark's fleet spread over processes, against a real ejabberd: each
 * process starts its own share of real instance agents under distinct names, the collector
 * sees all of them ready and reaches each with a fan-out, a PubSub item published once
 * reaches every agent in every process, and stopping ends every process and session.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../core/index.js';
import { Broadcast, collector, startProcFleet, type Collector } from '../../bench/lib/index.js';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { until } from '../helpers/wait.js';

const VMS = 'vms.localhost';
let t: TestServer;
let agent: Agent;
let c: Collector;
let dir: string;

before(async () => {
  t = await startEjabberd({ extraHosts: [{ name: VMS, ownJwtKey: true }] }, { cleanup: false });
  dir = mkdtempSync(join(tmpdir(), 'cgt-bench-procs-'));
  agent = await makeAgent(t, 'collector', { kind: 'bench', pubsubService: `pubsub.${VMS}` });
  c = collector(agent);
  await agent.start();
});
after(async () => {
  await agent?.stop();
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a fleet over three processes: every agent ready, answering, reached by one broadcast, offline when stopped', {
  timeout: 120_000,
}, async () => {
  const fleet = await startProcFleet({
    prefix: 'p',
    count: 7,
    processes: 3,
    domain: VMS,
    keyFile: t.server.info.hostJwtKeyFiles[VMS]!,
    server: { host: t.server.info.ip, port: t.server.info.c2sPort },
    ca: t.ca,
    commander: agent.bare,
    dir,
    concurrency: 3,
    attempts: 2,
    loginTimeoutMs: 30_000,
    heartbeatS: 3600,
    signal: new AbortController().signal,
  });
  let stopped: Awaited<ReturnType<typeof fleet.stop>> | undefined;
  try {
    assert.equal(fleet.failed, 0, fleet.firstError);
    assert.equal(fleet.processes, 3);
    assert.deepEqual(
      [...fleet.bares].sort(),
      Array.from({ length: 7 }, (_, i) => `p-${String(i).padStart(4, '0')}@${VMS}`),
    );
    assert.ok(fleet.rssMb() > fleet.baseRssMb, 'memory of the live processes is read');
    await c.allReady(fleet.bares, 20_000, new AbortController().signal);
    const f = await c.fanout(c.jidsOf(fleet.bares), 10_000);
    assert.equal(f.ok, 7, f.error);

    await agent.pubsub.ensureNode('bench/test', { accessModel: 'open', maxItems: 1 });
    const sub = await fleet.subscribe('bench/test', 3);
    assert.deepEqual(sub, { ok: 7, failed: 0, error: undefined });
    await agent.pubsub.publish(Broadcast, 'bench/test', { seq: 1, at: new Date().toISOString() });
    await until('every agent received the broadcast', async () => (await fleet.received(1)).n === 7, 20_000);
    const r = await fleet.received(2);
    assert.equal(r.n, 0, 'an item never published was received by nobody');
  } finally {
    stopped = await fleet.stop();
  }
  assert.equal(stopped.disconnects, 0);
  await until('every agent offline at the collector', () => c.readyOf(fleet.bares) === 0, 20_000);
});
