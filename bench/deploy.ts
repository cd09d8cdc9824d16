/**
 * deploy: one deployment of a cluster with one scalable service of N instances, asked of
 * a gateway through its client library (GatewayClient), placed on one cloud agent; both
 * agents run as their own processes, as in production.
 *  seconds           deploy request sent → the cloud agent has reported every instance
 *                    'running' (its InstanceStateEvent on PubSub node clouds/<name>, which
 *                    the gateway does not distinguish from 'pending': both are 'booting' there)
 *  gateway_seconds   → the gateway has recorded every instance as booting or beyond
 *                    (its deployment events)
 *  ready_seconds     local driver only: → every instance agent online and ready (waitFor 'ready')
 *  baseline_seconds  the driver's own create() of N, called directly, one at a time (as the
 *                    cloud agent does); baseline_parallel_seconds all at once (libvirt)
 * libvirt runs on the test hypervisor (see lib/deploy-files.ts); local runs the real
 * instance agent as one process per instance, so keep N small there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { ConnectionError, sleep } from '../core/index.js';
import { cloud } from '../protocols/index.js';
import { openDriver } from '../drivers/index.js';
import { GatewayClient, GatewayUnreachableError, isReady } from '../agents/gateway/index.js';
import { machine, progress, round, type Bench } from './lib.js';
import { OpenStackCloud, STATE_ENV, testCloud, testProject, type TestCloud } from '../test/helpers/openstack/index.js';
import {
  Arrivals,
  CLOUD,
  CLUSTER,
  CONTEXT,
  DRIVERS,
  unlessAborted,
  clusterIni,
  countingLogger,
  driverBaseline,
  driverOptions,
  ownCpuS,
  outcome,
  removeAll,
  spawnAgent,
  wordOf,
  writeDeployFiles,
  withEjabberd,
  type AgentProcess,
  type BenchEjabberd,
  type DriverKind,
  type Result,
  type WordFlags,
} from './lib/index.js';

const VMS = 'vms.localhost';
const secret = () => randomBytes(18).toString('base64url');
const USER = 'bench';
/** A wait that sees nothing new for this long has failed. */
const STALL_MS = 30_000;

interface Opts {
  driver: DriverKind;
  count: number;
  pollS: number;
  timeout: number;
  access?: Readonly<Record<string, string>>;
}

/**
 * A project of its own on the OpenStack test cloud, with room for both runs: the cloud of
 * the test run named by CLOUDGATE_OPENSTACK_STATE, or one started here (about a minute,
 * more on a busy machine) and stopped at the end.
 */
async function openStackProject(
  count: number,
  dir: string,
): Promise<{ access: Record<string, string>; stop(): Promise<void> }> {
  let own: OpenStackCloud | undefined;
  let cloud: TestCloud;
  if (process.env[STATE_ENV]) cloud = await testCloud();
  else {
    progress('starting the OpenStack test cloud');
    own = await OpenStackCloud.start({ dir: join(dir, 'openstack') });
    cloud = { info: own.info, admin: own.admin };
  }
  const p = await testProject(cloud, 'bench', { instances: count * 2 + 10, cores: -1, ram: -1 });
  return {
    access: {
      auth_url: cloud.info.endpoints.keystone,
      region: cloud.info.region,
      username: p.userName,
      password: p.password,
      project_name: p.projectName,
    },
    stop: async () => {
      await own?.stop();
    },
  };
}

export const bench: Bench & WordFlags = {
  name: 'deploy',
  summary: 'one deployment of N instances through gateway + cloud agent, against the driver alone',
  flags: {
    driver:
      'libvirt (test hypervisor; default), local (real instance agent processes) or openstack (the OpenStack test cloud of test/helpers/openstack; one of a test run is reused when CLOUDGATE_OPENSTACK_STATE names it)',
    instances: 'instances of the one scalable service (default 100 on libvirt, 10 on local)',
    poll: "the cloud agent's poll interval in seconds (default 5)",
    timeout: 'seconds before the whole run gives up (default 300)',
  },
  words: { driver: DRIVERS },
  run: (f) => {
    const driver = wordOf(DRIVERS, f.driver, 'libvirt');
    return run({
      driver,
      count: Math.max(1, f.instances ?? (driver === 'local' ? 10 : 100)),
      pollS: Math.max(1, f.poll ?? 5),
      timeout: f.timeout ?? (driver === 'openstack' ? 1200 : 300),
    });
  },
};

function run(o: Opts): Promise<Result> {
  return outcome(o.timeout, async (r, signal) => {
    Object.assign(r, {
      bench: 'deploy',
      driver: o.driver,
      instances: o.count,
      running: 0,
      poll_interval_s: o.pollS,
      load_average_start: loadavg().map((x) => round(x, 2)),
    });
    const dir = mkdtempSync(join(tmpdir(), 'cg-bench-deploy-'));
    const logs = countingLogger();
    try {
      await withEjabberd({ extraHosts: [{ name: VMS, ownJwtKey: true }] }, async (s) => {
        r.machine = machine(s.version);
        progress(`baseline: the ${o.driver} driver's create() of ${o.count}, called directly`);
        const os = o.driver === 'openstack' ? await openStackProject(o.count, dir) : undefined;
        try {
          const b = await driverBaseline(o.driver, join(dir, 'baseline'), o.count, logs.log, signal, os?.access);
          r.baseline_seconds = round(b.sequential_s, 2);
          if (b.parallel_s !== undefined) r.baseline_parallel_seconds = round(b.parallel_s, 2);
          await throughAgents(s, { ...o, access: os?.access }, r, dir, logs.log, signal);
        } finally {
          await os?.stop();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      r.load_average_end = loadavg().map((x) => round(x, 2));
    }
  });
}

async function throughAgents(
  s: BenchEjabberd,
  o: Opts,
  r: Result,
  dir: string,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const passwords = { gateway: secret(), cloud: secret(), user: secret() };
  await Promise.all(
    [
      ['gateway', passwords.gateway],
      [CLOUD, passwords.cloud],
      [USER, passwords.user],
    ].map(([u, p]) => s.server.account(u!, s.host, p!)),
  );
  const files = writeDeployFiles({
    dir,
    info: s.info,
    instanceHost: VMS,
    user: `${USER}@${s.host}`,
    driver: o.driver,
    count: o.count,
    pollS: o.pollS,
    passwords,
    access: o.access,
  });
  const cli = fileURLToPath(new URL('../agents/cli.js', import.meta.url));
  // CLOUDGATE_BENCH_PROFILE=<dir>: each agent writes a V8 CPU profile there when it stops.
  const profile = process.env.CLOUDGATE_BENCH_PROFILE;
  const node = profile ? [process.execPath, '--cpu-prof', `--cpu-prof-dir=${profile}`] : [process.execPath];
  const agents: AgentProcess[] = [];
  let gw: GatewayClient | undefined;
  try {
    for (const [name, kind, file] of [
      ['gateway', 'gateway', files.gateway],
      [CLOUD, 'cloud', files.cloud],
    ] as const) {
      agents.push(spawnAgent(name, [...node, cli, 'agent', kind, '--config', file], join(dir, `${name}.log`)));
    }
    const [gateway, cloudAgent] = agents as [AgentProcess, AgentProcess];
    // Every wait also ends when an agent dies (with its last log lines) or time is up.
    const died = Promise.race(
      agents.map((a) =>
        a.exited.then((how): never => {
          throw new Error(`the ${a.name} agent exited (${how}): ${a.logTail(8)}`);
        }),
      ),
    );
    died.catch(() => {});
    const wait = <T>(p: Promise<T>) => unlessAborted(Promise.race([p, died]), signal);

    progress(`gateway (pid ${gateway.pid}) and cloud agent (pid ${cloudAgent.pid}, ${o.driver}) starting`);
    gw = await wait(connect(s, passwords.user, log, signal));
    await wait(cloudOnline(gw, signal));
    await gw.putContext('node', CONTEXT);
    await gw.putCluster(clusterIni(o.count));

    // The cloud's reports, per deployment: the id is known only once Deploy is answered.
    const running = new Map<string, Arrivals>();
    const cloudAt = new Map<string, number>();
    const runningOf = (dep: string) => {
      if (!running.has(dep)) running.set(dep, new Arrivals('instances running at the cloud'));
      return running.get(dep)!;
    };
    gw.agent.onEvent(cloud.InstanceStateEvent, (e) => {
      if (e.state !== 'running') return;
      runningOf(e.deployment).add(e.name);
      if (!cloudAt.has(e.name)) cloudAt.set(e.name, Date.parse(e.at));
    });
    await gw.agent.pubsub.subscribe(`clouds/${CLOUD}`);

    progress(`deploying ${o.count} instances`);
    const cpu = () => ({
      gateway: gateway.cpuS() ?? 0,
      cloud: cloudAgent.cpuS() ?? 0,
      ejabberd: s.cpuS() ?? 0,
      bench: ownCpuS(),
    });
    const cpu0 = cpu();
    const wall0 = Date.now();
    const t0 = performance.now();
    const d = await wait(gw.deploy(CLUSTER));
    r.deployment = d.id;
    r.deploy_request_ms = round(performance.now() - t0, 1);
    const booting = new Arrivals('instances booting at the gateway');
    const following = await gw.follow(d.id, (e) => {
      const data = e.data as { instance?: string; to?: string } | undefined;
      if (e.type === 'instance' && data?.instance && (data.to === 'booting' || data.to === 'running'))
        booting.add(data.instance);
    });
    try {
      const arrived = runningOf(d.id);
      let tRunning: number | undefined;
      try {
        tRunning = await wait(arrived.all(o.count, STALL_MS, signal));
      } finally {
        r.running = arrived.count;
        r.seconds = round(((tRunning ?? performance.now()) - t0) / 1000, 2);
        const at = [...cloudAt.values()];
        if (at.length) {
          // When the cloud agent itself recorded the first and the last: the rest of
          // `seconds` is placement before and notification after.
          r.cloud_first_running_s = round((Math.min(...at) - wall0) / 1000, 2);
          r.cloud_last_running_s = round((Math.max(...at) - wall0) / 1000, 2);
        }
      }
      r.gateway_seconds = round(((await wait(booting.all(o.count, STALL_MS, signal))) - t0) / 1000, 2);
      if (o.driver === 'local') {
        const view = await wait(gw.waitFor(d.id, ['ready'], { timeoutMs: 5 * 60_000, pollMs: 500 }));
        if (!isReady(view)) throw new Error(`deployment ${d.id} ended ${view.state} before it was ready`);
        r.ready_seconds = round((performance.now() - t0) / 1000, 2);
      }
      const c1 = cpu();
      r.cpu_s = Object.fromEntries(Object.entries(c1).map(([k, v]) => [k, round(v - cpu0[k as keyof typeof cpu0], 2)]));
      // CPU per instance does not depend on how busy the machine is, unlike seconds.
      r.cpu_ms_per_instance = Object.fromEntries(
        Object.entries(c1).map(([k, v]) => [k, round(((v - cpu0[k as keyof typeof cpu0]) * 1000) / o.count, 2)]),
      );
      r.rss_mb = {
        gateway: gateway.memory()?.rss_mb,
        cloud: cloudAgent.memory()?.rss_mb,
        ejabberd: s.memory()?.rss_mb,
      };

      progress(`destroying ${d.id}`);
      const t1 = performance.now();
      await wait(gw.destroy(d.id));
      await wait(gw.waitFor(d.id, ['gone'], { timeoutMs: 2 * 60_000, pollMs: 500 }));
      r.destroy_seconds = round((performance.now() - t1) / 1000, 2);
    } finally {
      await following.stop().catch(() => undefined);
    }
  } finally {
    await gw?.close().catch(() => undefined);
    for (const a of [...agents].reverse()) await a.stop();
    if (o.driver === 'local') {
      // Instances are process groups: whatever the cloud agent did not terminate goes now.
      const d = await openDriver('local', driverOptions('local', join(dir, CLOUD), o.count), { log });
      try {
        r.leftover_instances = await removeAll(d);
      } finally {
        await d.close();
      }
    }
  }
}

/** The bench user's session; the gateway may still be starting, so transient failures are retried. */
async function connect(s: BenchEjabberd, password: string, log: Logger, signal: AbortSignal): Promise<GatewayClient> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await GatewayClient.connect({
        server: `${s.info.ip}:${s.info.c2sPort}`,
        jid: `${USER}@${s.host}`,
        password,
        ca: s.ca,
        gateway: `gateway@${s.host}`,
        gatewayTimeoutMs: 2000,
        log,
      });
    } catch (err) {
      const transient = err instanceof GatewayUnreachableError || (err instanceof ConnectionError && !err.permanent);
      if (!transient || Date.now() > deadline || signal.aborted) throw err;
      await sleep(300, signal);
    }
  }
}

async function cloudOnline(gw: GatewayClient, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = (await gw.clouds()).find((x) => x.name === CLOUD);
    if (c?.online) return;
    if (Date.now() > deadline) throw new Error(`cloud agent ${CLOUD} did not come online at the gateway within 30 s`);
    await sleep(200, signal);
  }
}
