import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import type { Agent, PeerEvent } from '../../core/index.js';
import { StanzaError } from '../../protocols/index.js';
import { RunScript, Drain, Shutdown, InstanceStatus } from '../../protocols/instance.js';
import type { InstanceAgent } from '../../agents/instance/index.js';
import {
  cloudgateFor,
  startInstance,
  startServer,
  suiteCleanup,
  tempDir,
  testGateway,
  waitFor,
  type TestGateway,
} from './agent-helpers.js';

describe('instance agent: commands, only from the JIDs its context allows', () => {
  let t: TestServer;
  let gw: TestGateway;
  let alice: Agent;
  let mallory: Agent;
  let cloud: Agent;
  let ia: InstanceAgent;
  let root: string;
  let shutdownReason: string | undefined;
  const suite = suiteCleanup();
  before(async () => {
    t = await startServer();
    gw = await testGateway(t);
    alice = await makeAgent(t, 'alice');
    mallory = await makeAgent(t, 'mallory');
    cloud = await makeAgent(t, 'cloud-a', { kind: 'cloud' });
    await Promise.all([alice.start(), mallory.start(), cloud.start()]);
  });
  after(async () => {
    await suite.run();
    await Promise.all([gw?.agent.stop(), alice?.stop(), mallory?.stop(), cloud?.stop()]);
    await t?.stop();
  });

  test('boots with allow = gateway + alice', async (tc) => {
    root = tempDir(suite);
    const file = join(tempDir(tc), 'ctx.ini');
    writeFileSync(
      file,
      `[environment]\nGREETING = hello\n${await cloudgateFor(t, 'vm-cmd', { allow: [`gateway@${t.host}`, `alice@${t.host}`], cloud: `cloud-a@${t.host}` })}`,
    );
    ia = await startInstance(suite, {
      root,
      contextFile: file,
      onShutdown: (r) => {
        shutdownReason = r;
      },
    });
    await waitFor('ready', () => gw.presences.find((p) => p.instance_id === 'vm-cmd' && p.phase === 'ready'));
  });

  test('RunScript from an allowed JID: output, exit status, context environment, custom metrics', async () => {
    const script = [
      'echo "out $GREETING $CLOUDGATE_INSTANCE_ID"',
      'echo "err line" >&2',
      'echo "jobs_done=12" > "$CLOUDGATE_METRICS_FILE"',
      'test "$CLOUDGATE_ROOT" = "$(pwd)" || exit 99',
      'exit 5',
    ].join('\n');
    const r = await alice.request(RunScript, ia.agent.jid, { script, timeout_s: undefined });
    assert.deepEqual(r, { exit_code: 5, stdout: 'out hello vm-cmd\n', stderr: 'err line\n' });
    assert.ok(await ia.beat());
    const beat = await waitFor("a heartbeat with the script's metric", () =>
      gw.beats.find((b) => b.custom?.jobs_done === '12'),
    );
    assert.equal(beat.instance_id, 'vm-cmd');
  });

  test('a timed-out script is killed and says so', async () => {
    const r = await alice.request(RunScript, ia.agent.jid, { script: 'echo started; sleep 30', timeout_s: 1 });
    assert.equal(r.exit_code, 124, 'like coreutils timeout');
    assert.equal(r.stdout, 'started\n');
    assert.match(r.stderr, /timed out after 1 s/);
  });

  test('a JID outside the allow list is refused, naming the sender, and nothing runs', async () => {
    const marker = join(root, 'mallory-was-here');
    for (const [def, req] of [
      [RunScript, { script: `touch ${marker}`, timeout_s: undefined }],
      [Drain, {}],
      [Shutdown, {}],
      [InstanceStatus, {}],
    ] as const) {
      await assert.rejects(mallory.request(def as any, ia.agent.jid, req), (e: unknown) => {
        assert.ok(e instanceof StanzaError, String(e));
        assert.equal(e.condition, 'not-authorized');
        assert.equal(e.app, 'unauthorized-sender');
        assert.match(e.message, new RegExp(`mallory@${t.host}`));
        return true;
      });
    }
    // The cloud agent is trusted (it renews our token) but may not command the instance.
    await assert.rejects(
      cloud.request(RunScript, ia.agent.jid, { script: `touch ${marker}`, timeout_s: undefined }),
      (e: any) =>
        e.condition === 'not-authorized' &&
        e.app === 'unauthorized-sender' &&
        e.message.includes(`cloud-a@${t.host}`) &&
        /allow list/.test(e.message),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(existsSync(marker), false);
    assert.equal(ia.life.phase, 'ready', 'not drained, not shut down');
  });

  test('InstanceStatus for an allowed JID', async () => {
    const s = await gw.agent.request(InstanceStatus, ia.agent.jid, {});
    assert.equal(s.instance_id, 'vm-cmd');
    assert.equal(s.phase, 'ready');
    assert.equal(s.context_version, 1);
    assert.equal(s.busy, false);
    assert.equal(s.allowed, `gateway@${t.host} alice@${t.host}`);
  });

  test('Drain: busy while a script runs, draining, refuses new work, drained when idle', async () => {
    const running = alice.request(RunScript, ia.agent.jid, { script: 'sleep 0.7; echo done', timeout_s: undefined });
    await waitFor('busy presence', () => gw.presences.find((p) => p.instance_id === 'vm-cmd' && p.busy === true));
    assert.deepEqual(await gw.agent.request(Drain, ia.agent.jid, {}), { idle: false });
    await waitFor('draining presence', () =>
      gw.presences.find((p) => p.instance_id === 'vm-cmd' && p.phase === 'draining'),
    );
    await assert.rejects(
      alice.request(RunScript, ia.agent.jid, { script: 'true', timeout_s: undefined }),
      (e: any) => e.condition === 'not-allowed' && e.app === 'draining',
    );
    assert.equal((await running).stdout, 'done\n', 'work in progress finishes');
    const drained = await waitFor('drained presence', () =>
      gw.presences.find((p) => p.instance_id === 'vm-cmd' && p.phase === 'drained'),
    );
    assert.deepEqual({ ready: drained.ready, busy: drained.busy }, { ready: false, busy: false });
    assert.deepEqual(await gw.agent.request(Drain, ia.agent.jid, {}), { idle: true });
  });

  test('Shutdown: answered, then the agent stops (offline at the gateway) and onShutdown runs', async () => {
    const offline = new Promise<void>((r) =>
      gw.agent.on('peer', (e: PeerEvent) => {
        if (e.type === 'offline' && e.peer.jid === ia.agent.jid) r();
      }),
    );
    assert.deepEqual(await gw.agent.request(Shutdown, ia.agent.jid, { reason: 'scale-in' }), {});
    assert.equal(await ia.stopped, 'scale-in');
    await offline;
    assert.equal(shutdownReason, 'scale-in');
    assert.equal(ia.agent.isOnline, false);
  });
});
