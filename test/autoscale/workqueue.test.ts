/**
 * The work-queue example end to end, shortened: a real ejabberd, a cloud agent on the
 * local driver whose instances are real instance agents running the example's contexts
 * (the head reports the queue, workers take jobs and report running=1), and the gateway
 * autoscaling on their heartbeats. Jobs submitted with the example's submit.sh scale the
 * workers up, overflowing to a second cloud; once the queue drains and they idle, back to
 * min, the overflow cloud emptied when no worker is left there. Then the typed API:
 * show, pause, resume, a bad policy, a manual scale that pauses the policy.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudAgent } from '../../agents/cloud/index.js';
import type { Gateway } from '../../agents/gateway/index.js';
import type { Agent } from '../../core/index.js';
import { gateway as gw, StanzaError } from '../../protocols/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import { startGateway, status, until } from '../gateway/harness.js';
import { liveProcesses, running, startCloud, startServer } from '../gateway/e2e-setup.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/workqueue/', import.meta.url));
const example = (f: string) => readFileSync(join(EXAMPLES, f), 'utf8');
const CLI = fileURLToPath(new URL('../../agents/cli.js', import.meta.url));

describe('work-queue example with the local driver', { timeout: 300_000 }, () => {
  let t: TestServer;
  let dir: string;
  let queue: string;
  let alice: Agent;
  let cloud: CloudAgent;
  let overflow: CloudAgent;
  let g: Gateway;
  let id = '';

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-autoscale-wq-'));
    queue = join(dir, 'queue');
    const gateway = `gateway@${t.host}`;
    // Heartbeats carry fresh metrics every second (the default samples them every minute).
    // cloud-a holds the head and two workers; more overflow to cloud-b (with a head replica).
    cloud = await startCloud(t, dir, { name: 'cloud-a', driver: 'local', gateway, metricsInterval: '1s', quota: 3 });
    overflow = await startCloud(t, dir, { name: 'cloud-b', driver: 'local', gateway, metricsInterval: '1s' });
    alice = await makeAgent(t, 'alice');
    await alice.start();
    g = await startGateway(t, {
      dir,
      clouds: [cloud.config.raw.xmpp.jid, overflow.config.raw.xmpp.jid],
      settings: { autoscaleIntervalMs: 300, heartbeatTimeoutMs: 30_000, readyTimeoutMs: 60_000, drainTimeoutMs: 5000 },
    });
    await until('clouds online', () => g.agent.peers('cloud').length === 2);
  });
  after(async () => {
    await g?.stop().catch(() => {});
    await alice?.stop().catch(() => {});
    await cloud?.stop().catch(() => {});
    await overflow?.stop().catch(() => {});
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const workers = async () => (await status(alice, g.agent.jid, id)).services.find((s) => s.name === 'worker')!;
  const events = (type: string) =>
    g.model.events
      .list(id)
      .filter((e) => e.type === type)
      .map((e) => e.message);

  test('submitting jobs scales the workers up; a drained queue scales them back to min', async () => {
    const ctx = (f: string) => example(f).replace('QUEUE_DIR = /srv/queue', `QUEUE_DIR = ${queue}`);
    await alice.request(gw.PutContext, g.agent.jid, {
      name: 'wq-head',
      body: ctx('head.context.ini'),
      visibility: undefined,
      passphrase: undefined,
    });
    await alice.request(gw.PutContext, g.agent.jid, {
      name: 'wq-worker',
      body: ctx('worker.context.ini'),
      visibility: undefined,
      passphrase: undefined,
    });
    // Shortened: seconds instead of minutes, at most 4 workers.
    const def = example('cluster.ini')
      .replace(/^image = cernvm-4$/gm, 'image = test-image')
      .replace(/^max = 20$/m, 'max = 4')
      .replace(/^per_instance = 10$/m, 'per_instance = 5')
      .replace(/^delay = 20s$/m, 'delay = 1s')
      .replace(/^warmup = 2m$/m, 'warmup = 30s')
      .replace(/^idle = 1m$/m, 'idle = 2s')
      .replace(/^down_window = 1m$/m, 'down_window = 2s');
    assert.match(
      def,
      /max = 4[\s\S]*delay = 1s[\s\S]*down_window = 2s/,
      'the example still has the keys this test shortens',
    );
    await alice.request(gw.PutCluster, g.agent.jid, { definition: def });
    id = (
      await alice.request(gw.Deploy, g.agent.jid, { cluster: 'workqueue', counts: undefined, passphrase: undefined })
    ).deployment.id;
    await until(
      'deployment completed',
      async () => (await status(alice, g.agent.jid, id)).state === 'completed',
      60_000,
      200,
    );
    assert.equal((await workers()).wanted, 1);
    await until('the head reports an empty queue', () => existsSync(join(queue, 'jobs')), 20_000, 100);

    execFileSync('sh', [join(EXAMPLES, 'submit.sh'), queue, '40', '0.5']);
    await until('workers scaled up to max', async () => (await workers()).wanted === 4, 60_000, 200).catch(
      async (err: Error) => {
        const shown = await alice.request(gw.Autoscale, g.agent.jid, {
          deployment: id,
          action: 'show',
          service: undefined,
          policy: undefined,
        });
        throw new Error(
          `${err.message}; autoscaling: ${JSON.stringify(shown.policies)}; queue: ${readFileSync(join(queue, 'done'), 'utf8').length}`,
        );
      },
    );
    const up = events('autoscale').find((m) => /waiting/.test(m));
    assert.match(
      up ?? '',
      /^worker: queue_length \d+ waiting for [\d.]+ s: ceil\(\d+ \/ 5\) = \d+ needed, \d+ warming up, \d+ more; limited by max 4: 1 -> 4$/,
      events('autoscale').join('\n'),
    );

    await until('4 workers ready', async () => (await workers()).ready === 4, 60_000, 200);
    const onB = (await status(alice, g.agent.jid, id)).instances.filter(
      (i) => i.cloud === overflow.config.raw.xmpp.jid && i.state !== 'terminated',
    );
    assert.ok(
      onB.some((i) => i.service === 'worker') && onB.some((i) => i.service === 'head'),
      'the scale-up overflowed to cloud-b, with a head replica',
    );

    await until(
      'every job done',
      () =>
        existsSync(join(queue, 'done')) && readFileSync(join(queue, 'done'), 'utf8').trim().split('\n').length === 40,
      120_000,
      200,
    );
    const takers = new Set(
      readFileSync(join(queue, 'done'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split('.').pop()),
    );
    assert.ok(takers.size >= 2, `jobs were shared by several workers (${takers.size})`);

    await until(
      'back to min',
      async () => {
        const w = await workers();
        const d = await status(alice, g.agent.jid, id);
        return (
          w.wanted === 1 && d.instances.filter((i) => i.service === 'worker' && i.state !== 'terminated').length === 1
        );
      },
      90_000,
      200,
    );
    // Among idle workers the least loaded goes first and ties go to the overflow cloud: a
    // busy machine's load figures can leave the last worker there, and then its head
    // replica stays with it. Otherwise the overflow cloud empties, replica included.
    const overflowJid = overflow.config.raw.xmpp.jid;
    const kept = (await status(alice, g.agent.jid, id)).instances.filter(
      (i) => i.service === 'worker' && i.state !== 'terminated',
    );
    if (kept.every((i) => i.cloud !== overflowJid))
      await until(
        'the overflow cloud emptied, replica included',
        async () => (await running(overflow)).length === 0,
        60_000,
        200,
      );
    else
      assert.ok(
        (await status(alice, g.agent.jid, id)).instances.some(
          (i) => i.service === 'head' && i.cloud === overflowJid && i.state !== 'terminated',
        ),
        'the worker left on the overflow cloud keeps its head replica',
      );
    assert.ok(
      events('autoscale').some((m) => /nothing waiting, \d+ instance\(s\) idle for 2 s or more/.test(m)),
      events('autoscale').join('\n'),
    );
    const changes = events('autoscale').length;
    assert.ok(changes <= 6, `no flapping: ${changes} autoscaling events`);
  });

  test('show, pause, resume, a bad policy, and a manual scale that pauses the policy', async () => {
    assert.ok(id, 'needs the deployment of the test before');
    type Ask = {
      deployment: string;
      action: 'show' | 'pause' | 'resume' | 'set';
      service: string | undefined;
      policy: string | undefined;
    };
    const ask = (q: Ask) => alice.request(gw.Autoscale, g.agent.jid, q);
    const shown = (await ask({ deployment: id, action: 'show', service: undefined, policy: undefined })).policies;
    assert.equal(shown.length, 1);
    assert.match(
      shown[0]!.policy,
      /^queue: queue_length, 5 per instance, delay 1 s, warm-up 30 s, idle 2 s, busy when running > 0 from head/,
    );
    assert.equal(shown[0]!.paused, false);
    assert.ok(shown[0]!.last, 'the latest decision is shown');

    // The status of the one deployment carries its policies and their latest decisions,
    // in the typed answer and in the CLI's text.
    const st = (await alice.request(gw.Status, g.agent.jid, { deployment: id })).deployments[0]!;
    assert.deepEqual(
      st.autoscale?.map((p) => [p.service, p.paused, typeof p.last]),
      [['worker', false, 'string']],
    );
    // The CLI, as a child process (asynchronously: the gateway lives in this process).
    const env = {
      PATH: process.env.PATH,
      CLOUDGATE_SERVER: t.service.replace('xmpp://', ''),
      CLOUDGATE_JID: `alice@${t.host}`,
      CLOUDGATE_JWT_KEY: t.server.info.jwtKeyFile,
      CLOUDGATE_CA: t.server.info.certFile,
      XDG_CONFIG_HOME: dir,
    };
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [CLI, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr }),
        );
      });
    const text = await cli('status', id);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /\nautoscaling:\n {2}worker: active, queue: queue_length, .*\n {4}last decision: \S/);

    // Another user does not see the deployment, so cannot pause its policy.
    const bob = await makeAgent(t, 'bob');
    await bob.start();
    await assert.rejects(
      bob.request(gw.Autoscale, g.agent.jid, { deployment: id, action: 'pause', service: 'worker', policy: undefined }),
      (e: unknown) => e instanceof StanzaError && e.condition === 'item-not-found',
    );
    await bob.stop();
    assert.equal(
      (await ask({ deployment: id, action: 'show', service: 'worker', policy: undefined })).policies[0]!.paused,
      false,
    );

    const paused = (await ask({ deployment: id, action: 'pause', service: 'worker', policy: undefined })).policies[0]!;
    assert.equal(paused.paused, true);
    assert.match(paused.note ?? '', new RegExp(`paused by alice@${t.host.replace(/\./g, '\\.')}`));
    execFileSync('sh', [join(EXAMPLES, 'submit.sh'), queue, '10', '0.2']);
    await until(
      'the queue drained by the one worker',
      () => readFileSync(join(queue, 'done'), 'utf8').trim().split('\n').length === 50,
      60_000,
      200,
    );
    assert.equal((await workers()).wanted, 1, 'a paused policy decides nothing');
    const resumed = await cli('autoscale', id, 'worker', 'resume', '--json');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout).policies[0].paused, false);
    const wrong = await cli('autoscale', id, 'worker', 'stop');
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /\[action\]: expected pause, resume, set, got 'stop'/);

    await assert.rejects(
      ask({
        deployment: id,
        action: 'set',
        service: 'worker',
        policy: 'policy = queue\nmetric = queue_length\nper_instance = 0',
      }),
      (e: unknown) =>
        e instanceof StanzaError &&
        e.condition === 'bad-request' &&
        /\[autoscale\.worker\] per_instance: must be above 0/.test(e.message),
    );
    await assert.rejects(
      ask({ deployment: id, action: 'pause', service: 'head', policy: undefined }),
      (e: unknown) => e instanceof StanzaError && /'head' is a fixed service/.test(e.message),
    );
    const set = (
      await ask({
        deployment: id,
        action: 'set',
        service: 'worker',
        policy: 'policy = target\nmetric = load1\ntarget = 50\nsource = worker',
      })
    ).policies[0]!;
    assert.match(set.policy, /^target: load1 average at 50/);

    await alice.request(gw.Scale, g.agent.jid, { deployment: id, service: 'worker', count: 2 });
    const after = (await ask({ deployment: id, action: 'show', service: 'worker', policy: undefined })).policies[0]!;
    assert.equal(after.paused, true);
    assert.match(after.note ?? '', /paused by a manual scale/);
    await until('2 workers ready', async () => (await workers()).ready === 2, 60_000, 200);
    assert.equal((await workers()).wanted, 2, "the owner's count stands");

    await alice.request(gw.Destroy, g.agent.jid, { deployment: id });
    await until(
      'no process left',
      async () => (await liveProcesses(cloud)).length + (await liveProcesses(overflow)).length === 0,
      30_000,
      200,
    );
  });
});
