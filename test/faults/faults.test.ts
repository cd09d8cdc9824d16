/**
 * Nothing is lost when the parts of a deployment fail. Four deployments of 50 instances
 * (1 fixed head + 49 scalable workers, local driver: every instance is a real instance
 * agent process), each hit by one fault half-way and then recovered:
 *
 *  - the cloud agent is killed with SIGKILL while it creates the workers, then restarted;
 *  - the gateway is killed with SIGKILL while instances come up, then restarted;
 *  - ejabberd is stopped and started again on the same directory and ports;
 *  - every instance agent running at that moment is frozen (SIGSTOP) for longer than the
 *    gateway's heartbeat timeout, then thawed (SIGCONT).
 *
 * After each: the deployment completes; the gateway lists exactly 50 live instances, names
 * unique; the cloud side (the driver's own records, and the processes the OS runs) has
 * exactly those 50, no duplicate, no orphan; and the deployment's history records the
 * fault. One ejabberd, gateway and cloud agent serve the four tests in turn.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { sleep } from '../../core/index.js';
import { CLOUD_JID } from '../../agents/demo/configs.js';
import type { DeploymentView } from '../../agents/gateway/client.js';
import { killProcessesOf } from '../helpers/watchdog.js';
import { startSystem, CLUSTER, CONTEXT, HEARTBEAT_TIMEOUT_S, type System } from './system.js';
import {
  consoleTails,
  describeSnapshot,
  history,
  instanceProcesses,
  settled,
  snapshot,
  waitUntil,
  type HistoryEvent,
  type HistoryJob,
  type Snapshot,
} from './checks.js';

const N = 50;
const TEST_TIMEOUT_MS = 180_000;

describe(`faults during a deployment of ${N} instances`, { timeout: 4 * TEST_TIMEOUT_MS + 60_000 }, () => {
  let sys: System;

  before(async () => {
    sys = await startSystem('cgt-faults-');
    await sys.client.putContext('node', CONTEXT);
  });
  after(async () => {
    await sys?.stop();
  });

  /** Instances the local driver has created so far (records in its state directory). */
  const created = () => readdirSync(sys.stateDir).filter((n) => n.startsWith('local-')).length;
  const readyCount = (d: DeploymentView) => d.instances.filter((i) => i.ready && i.state !== 'terminated').length;

  /** Waits until some but not all instances are ready: the moment to strike. */
  async function halfway(id: string, atLeast = 10): Promise<number> {
    const d = await waitUntil(
      `at least ${atLeast} instances ready`,
      () => sys.client.status(id),
      (v) => readyCount(v) >= atLeast,
      90_000,
      (v) => `${readyCount(v)} ready, state ${v.state}`,
      100,
    );
    const n = readyCount(d);
    assert.ok(n < N, `the fault must strike mid-way, but ${n} of ${N} were ready already`);
    return n;
  }

  /**
   * Deploys, lets `fault` strike and recover, then checks that nothing was lost or doubled
   * and hands the deployment's history to `recorded`.
   */
  async function survive(
    cluster: string,
    fault: (id: string) => Promise<void>,
    recorded: (h: { events: HistoryEvent[]; jobs: HistoryJob[] }) => void,
  ): Promise<void> {
    // A test that failed half-way may have left an agent down: each fault starts whole.
    await sys.ensureRunning();
    await sys.client.putCluster(CLUSTER(cluster));
    const d = await sys.client.deploy(cluster);
    try {
      await fault(d.id);
      const view = await sys.client.waitFor(d.id, ['completed'], { timeoutMs: 120_000, pollMs: 1000 });
      if (view.state !== 'completed') {
        const h = unusual(history(sys.files.gatewayDb, d.id));
        const failedNames = h
          .map((x) => /^instance: (\S+) failed: (?!lost)/.exec(x)?.[1])
          .filter((n): n is string => !!n);
        assert.fail(
          `deployment ${d.id} completed (got ${view.state}); its history, routine steps left out:\n${h.join('\n')}` +
            (failedNames.length
              ? `\nthe last lines of the instances that failed:\n${consoleTails(
                  sys.stateDir,
                  failedNames.map((n) => `${d.id}-${n}`),
                ).join('\n')}`
              : ''),
        );
      }
      const s: Snapshot = await waitUntil(
        'gateway, cloud and processes to agree on 50 instances',
        () => snapshot(sys.client, sys.stateDir, d.id),
        (x) => settled(x, N),
        45_000,
        describeSnapshot,
        500,
      );

      const live = s.view.instances.filter((i) => i.state !== 'terminated');
      assert.equal(live.length, N, 'the gateway lists exactly 50 live instances');
      assert.equal(new Set(live.map((i) => i.name)).size, N, 'instance names are unique');
      assert.deepEqual(
        s.view.services.map((x) => `${x.name} ${x.ready}/${x.wanted}`),
        ['head 1/1', `worker ${N - 1}/${N - 1}`],
      );
      assert.equal(new Set(s.cloud).size, s.cloud.length, 'no name twice at the cloud');
      assert.deepEqual(
        s.cloud,
        s.gateway,
        'the cloud runs exactly the instances the gateway keeps: none missing, none orphaned',
      );
      assert.ok(
        live.every((i) => i.cloud === CLOUD_JID && i.cloud_instance_id),
        'every instance is known by its cloud id',
      );
      const ids = new Set(live.map((i) => i.cloud_instance_id));
      assert.deepEqual(
        s.procs.filter((p) => !ids.has(p.instanceId)).map((p) => p.pid),
        [],
        'no instance process runs that the gateway does not know',
      );
      assert.equal(new Set(s.procs.map((p) => p.instanceId)).size, N, 'one process per instance');
      assert.deepEqual(
        s.procs.filter((p) => p.stopped).map((p) => p.pid),
        [],
        'no instance process is left frozen',
      );

      const h = history(sys.files.gatewayDb, d.id);
      assert.ok(
        h.jobs.some((j) => j.kind === 'deploy' && j.state === 'succeeded'),
        `the deploy job succeeded: ${JSON.stringify(h.jobs)}`,
      );
      if (process.env.FAULTS_DEBUG) console.log(messages(h).join('\n'));
      recorded(h);
    } catch (err) {
      // The fault's own failure is the one to report, not a clean-up that failed after it.
      await cleanUp(d.id).catch(() => {});
      throw err;
    }
    await cleanUp(d.id);
  }

  /** Destroys the deployment and waits until no instance of it runs anywhere. */
  async function cleanUp(id: string): Promise<void> {
    try {
      await sys.client.destroy(id);
      await sys.client.waitFor(id, ['gone'], { timeoutMs: 45_000 });
      await waitUntil(
        'no instance process left',
        async () => instanceProcesses(sys.stateDir),
        (p) => p.length === 0,
        20_000,
        (p) => `${p.length} left`,
      );
    } catch (err) {
      // The next test must not inherit this one's instances.
      killProcessesOf(sys.stateDir);
      throw err;
    }
  }

  const messages = (h: { events: HistoryEvent[] }) => h.events.map((e) => `${e.type}: ${e.message}`);
  const unusual = (h: { events: HistoryEvent[] }) =>
    messages(h).filter(
      (x) => !/^(instance|context): \S+ (requested -> booting|booting -> running|context version \d+ applied)/.test(x),
    );

  test('kill -9 of the cloud agent while it creates the workers', { timeout: TEST_TIMEOUT_MS }, async () => {
    await survive(
      'f-cloud',
      async () => {
        await waitUntil(
          'the cloud agent half-way through creating instances',
          async () => created(),
          (n) => n >= 10,
          90_000,
          (n) => `${n} created`,
          20,
        );
        await sys.kill('cloud');
        const atKill = created();
        assert.ok(atKill < N, `killed mid-way (${atKill} of ${N} created)`);
        await sleep(2000);
        sys.restart('cloud');
      },
      (h) => {
        const m = messages(h);
        const gone = m.findIndex((x) => x === `cloud: cloud ${CLOUD_JID} offline`);
        assert.ok(gone >= 0, `the history records the cloud agent going away:\n${m.join('\n')}`);
        assert.ok(
          m.slice(gone).some((x) => x.startsWith(`cloud: cloud ${CLOUD_JID} online`)),
          `and coming back:\n${m.join('\n')}`,
        );
      },
    );
  });

  test('kill -9 of the gateway while instances come up', { timeout: TEST_TIMEOUT_MS }, async () => {
    await survive(
      'f-gateway',
      async (id) => {
        // Struck while the workers are being created, so that most of them come up after.
        const made = (v: DeploymentView) =>
          v.instances.filter((i) => i.cloud_instance_id && i.state !== 'terminated').length;
        await waitUntil(
          'the cloud agent creating the workers',
          () => sys.client.status(id),
          (v) => made(v) >= 10,
          90_000,
          (v) => `${made(v)} created`,
          50,
        );
        await sys.kill('gateway');
        const job = history(sys.files.gatewayDb, id).jobs.find((j) => j.kind === 'deploy');
        assert.ok(
          job && (job.state === 'queued' || job.state === 'running'),
          `the gateway was killed before the deployment completed (deploy job ${job?.state})`,
        );
        await sleep(2000);
        sys.restart('gateway');
      },
      (h) => {
        const m = messages(h);
        assert.ok(
          m.includes('job: deploy job resumed (the gateway started again)'),
          `the history records the restart:\n${m.join('\n')}`,
        );
      },
    );
  });

  test('ejabberd restarted while instances come up', { timeout: TEST_TIMEOUT_MS }, async () => {
    await survive(
      'f-xmpp',
      async (id) => {
        await halfway(id);
        await sys.restartServer(2000);
      },
      (h) => {
        const m = messages(h);
        const gone = m.findIndex((x) => x === `cloud: cloud ${CLOUD_JID} offline`);
        assert.ok(
          gone >= 0 && m.slice(gone).some((x) => x.startsWith(`cloud: cloud ${CLOUD_JID} online`)),
          `the history records the lost connection and the reconnection:\n${m.join('\n')}`,
        );
        // Everyone was cut off, nobody failed: the server's restart costs no instance.
        assert.deepEqual(
          h.events.filter((e) => e.type === 'lost').map((e) => e.message),
          [],
          'no instance lost',
        );
        assert.equal(
          h.events.filter((e) => e.type === 'instance' && / requested on /.test(e.message)).length,
          N,
          'none replaced',
        );
      },
    );
  });

  test(`instance agents frozen for longer than the heartbeat timeout (${HEARTBEAT_TIMEOUT_S} s)`, {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    let frozen = 0;
    await survive(
      'f-freeze',
      async (id) => {
        await halfway(id);
        const procs = instanceProcesses(sys.stateDir);
        frozen = procs.length;
        for (const p of procs) process.kill(p.pid, 'SIGSTOP');
        await sleep((HEARTBEAT_TIMEOUT_S + 8) * 1000);
        for (const p of procs) {
          try {
            process.kill(p.pid, 'SIGCONT');
          } catch {
            /* terminated meanwhile */
          }
        }
      },
      (h) => {
        const lost = h.events.filter((e) => e.type === 'lost');
        assert.ok(
          lost.length > 0 && lost.length <= frozen,
          `${lost.length} instances recorded lost (${frozen} frozen)`,
        );
        const requested = h.events.filter((e) => e.type === 'instance' && / requested on /.test(e.message)).length;
        // On a loaded machine a thawed or new agent may also miss its ready timeout: failed, and replaced too.
        const failed = h.events.filter(
          (e) => e.type === 'instance' && / failed: /.test(e.message) && !/ failed: lost/.test(e.message),
        );
        assert.ok(failed.length <= 3, `few instances failed otherwise:\n${failed.map((e) => e.message).join('\n')}`);
        assert.equal(
          requested,
          N + lost.length + failed.length,
          `each lost or failed instance was replaced once (${lost.length} lost, ${failed.length} failed); the history, routine steps left out:\n${unusual(h).join('\n')}`,
        );
      },
    );
  });
});
