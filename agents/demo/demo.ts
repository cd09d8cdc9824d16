/**
 * The demo, start to finish: a project-local ejabberd, a gateway and a cloud agent (local
 * driver) as separate processes, then, as the demo user (a gateway admin), the example
 * contexts and cluster uploaded and deployed, with progress until every instance agent
 * is ready. It then waits for `stop` and stops everything it started, newest first:
 * the deployment (through the gateway), the agents, any instance left, the server.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, sleep, ConnectionError } from '../../core/index.js';
import type { EjabberdServer } from '../../ejabberd/index.js';
import {
  GatewayClient,
  GatewayUnreachableError,
  OperationFailedError,
  UsageError,
  describeError,
  exitCodeFor,
  isReady,
  type DeploymentEventView,
  type DeploymentView,
  createProgress,
  type Progress,
  type ProgressStream,
} from '../gateway/index.js';
import { pickPort, startServer } from './server.js';
import { writeConfigs, CLOUD_NAME, CLOUD_JID, DEMO_USER, GATEWAY_JID } from './configs.js';
import { createAccounts } from './accounts.js';
import { spawnAgent, type AgentProcess } from './processes.js';
import { recordPids, stopLeftovers, terminateLocalInstances } from './leftovers.js';
import { summary } from './summary.js';

export interface DemoSettings {
  root: string;
  dir: string;
  c2sPort: number;
  componentPort: number;
  /** The gateway's HTTP API (HTTPS with the project-local certificate, on loopback). */
  httpPort: number;
  /** Stop as soon as the cluster is ready (tests, CI). */
  exitWhenReady: boolean;
  readyTimeoutMs: number;
  out: ProgressStream;
  /** Aborted on Ctrl-C / SIGTERM. */
  stop: AbortSignal;
}

class Interrupted extends Error {}
class AgentExited extends Error {
  constructor(
    readonly agent: AgentProcess,
    how: string,
  ) {
    super(`the ${agent.name} agent exited (${how}) before the demo stopped it`);
  }
}

/** Runs the demo; resolves with the exit code once everything it started is stopped. */
export async function runDemo(s: DemoSettings): Promise<number> {
  const say = (line: string) => {
    s.out.write(`cloudgate demo: ${line}\n`);
  };
  const stateDir = join(s.dir, CLOUD_NAME, 'instances');
  // The demo's own client session logs nothing unless asked (it shares the terminal).
  const log = createLogger({ level: process.env.CLOUDGATE_DEMO_LOG_LEVEL ?? 'silent' });
  let server: EjabberdServer | undefined;
  const agents: AgentProcess[] = [];
  let gw: GatewayClient | undefined;
  let deployment: DeploymentView | undefined;
  const events: DeploymentEventView[] = [];
  let stopping = false;
  let progress: Progress | undefined;

  // Every wait below also ends when an agent dies or the user stops the demo.
  let rejectDied!: (e: Error) => void;
  const died = new Promise<never>((_, rej) => {
    rejectDied = rej;
  });
  const aborted = new Promise<never>((_, rej) => {
    if (s.stop.aborted) rej(new Interrupted());
    s.stop.addEventListener('abort', () => rej(new Interrupted()), { once: true });
  });
  died.catch(() => {});
  aborted.catch(() => {});
  const race = <T>(p: Promise<T>) => Promise.race([p, died, aborted]);

  let failure: unknown;
  try {
    say(`starting in ${s.dir}`);
    checkDemoDir(s.dir);
    await race(stopLeftovers(s.dir, stateDir, say));
    rmSync(s.dir, { recursive: true, force: true });
    mkdirSync(s.dir, { recursive: true });
    for (const kind of ['gateway', 'cloud']) {
      if (!existsSync(join(s.root, 'dist', 'agents', kind, 'index.js')))
        throw new OperationFailedError(
          `the ${kind} agent is not built (dist/agents/${kind}/index.js is missing): run npm run build`,
        );
    }

    server = await race(
      startServer({
        dir: join(s.dir, 'ejabberd'),
        c2sPort: s.c2sPort,
        componentPort: s.componentPort,
        say,
        agents: [GATEWAY_JID, CLOUD_JID],
      }),
    );
    const info = server.info;
    say(`ejabberd is up on ${info.ip}:${info.c2sPort} (domain ${info.host})`);
    const passwords = await race(createAccounts(server));
    const httpPort = await race(pickPort(s.httpPort, 'HTTP API', say));
    const files = writeConfigs(s.dir, info, passwords, httpPort);
    // The certificate names localhost (not the address): that is the name to use.
    const httpUrl = `https://localhost:${httpPort}`;
    // The demo user's password, for people's chat clients (client.ini holds it too).
    const chatPasswordFile = join(s.dir, 'chat-password');
    writeFileSync(chatPasswordFile, `${passwords.user}\n`, { mode: 0o600 });

    const cli = join(s.root, 'dist', 'agents', 'cli.js');
    for (const [name, kind, file] of [
      ['gateway', 'gateway', files.gateway],
      [CLOUD_NAME, 'cloud', files.cloud],
    ] as const) {
      const p = spawnAgent(name, [process.execPath, cli, 'agent', kind, '--config', file], join(s.dir, `${name}.log`));
      agents.push(p);
      void p.exited.then((how) => {
        if (!stopping) rejectDied(new AgentExited(p, how));
      });
    }
    recordPids(
      s.dir,
      agents.map((a) => a.pid),
    );
    say(
      `started the gateway (pid ${agents[0]!.pid}) and cloud agent ${CLOUD_NAME} (pid ${agents[1]!.pid}); logs in ${s.dir}`,
    );

    gw = await race(connect(info, passwords.user, s.stop));
    say(`connected as ${DEMO_USER} (a gateway admin) to ${GATEWAY_JID}`);
    for (const name of ['head', 'worker']) {
      const c = await race(gw.putContext(name, readFileSync(join(s.root, 'examples', `${name}.context.ini`), 'utf8')));
      say(`uploaded context ${c.name} (version ${c.version})`);
    }
    const cluster = await race(gw.putCluster(readFileSync(join(s.root, 'examples', 'cluster.ini'), 'utf8')));
    say(`uploaded cluster ${cluster.name} (services ${cluster.services.join(', ')})`);
    await race(cloudOnline(gw, s.stop));

    const t0 = Date.now();
    deployment = await race(gw.deploy(cluster.name));
    say(`deploying ${cluster.name} as ${deployment.id}`);
    progress = createProgress({ stream: s.out, start: t0 });
    const shown = progress;
    const final = await race(
      gw.waitFor(deployment.id, ['ready'], {
        timeoutMs: s.readyTimeoutMs,
        signal: s.stop,
        onProgress: ({ view, event }) => {
          if (view) {
            deployment = view;
            shown.view(view);
          }
          if (event) {
            events.push(event);
            shown.event(event);
          }
        },
      }),
    );
    progress.end();
    deployment = final;
    if (!isReady(final)) throw new OperationFailedError(`deployment ${final.id} ${final.state} before it was ready`);

    s.out.write(
      summary({
        root: s.root,
        dir: s.dir,
        files,
        info,
        d: final,
        readyAfterS: (Date.now() - t0) / 1000,
        logs: { gateway: agents[0]!.logFile, cloud: agents[1]!.logFile },
        chatPasswordFile,
        httpUrl,
      }) + '\n',
    );
    if (!s.exitWhenReady) await race(new Promise<never>(() => {}));
  } catch (err) {
    if (!(err instanceof Interrupted)) failure = err;
  }

  stopping = true;
  progress?.end(); // no more redrawing over what follows
  if (failure) reportFailure(say, failure, agents, events, s.out);
  say(failure ? 'stopping everything it started' : 'stopping');
  if (gw && deployment) {
    try {
      await gw.destroy(deployment.id);
      const end = await gw.waitFor(deployment.id, ['gone'], { timeoutMs: 30_000 });
      say(`destroyed deployment ${deployment.id}: ${end.instances.length} instance(s) terminated`);
    } catch (err) {
      say(`could not destroy deployment ${deployment.id}: ${describeError(err)}`);
    }
  }
  await gw?.close().catch(() => {});
  for (const a of [...agents].reverse()) await a.stop();
  const left = await terminateLocalInstances(stateDir).catch(() => 0);
  if (left) say(`terminated ${left} instance(s) the cloud agent had not`);
  await server?.stop().catch((err) => say(`could not stop ejabberd: ${describeError(err)}`));
  say('stopped');
  return failure ? exitCodeFor(failure) : 0;

  async function connect(info: EjabberdServer['info'], password: string, stop: AbortSignal): Promise<GatewayClient> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return await GatewayClient.connect({
          server: `${info.ip}:${info.c2sPort}`,
          jid: DEMO_USER,
          password,
          ca: readFileSync(info.certFile, 'utf8'),
          gateway: GATEWAY_JID,
          gatewayTimeoutMs: 2000,
          log,
        });
      } catch (err) {
        const transient = err instanceof GatewayUnreachableError || (err instanceof ConnectionError && !err.permanent);
        if (!transient || Date.now() > deadline || stop.aborted) throw err;
        await sleep(500, stop);
      }
    }
  }

  async function cloudOnline(client: GatewayClient, stop: AbortSignal): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const c = (await client.clouds()).find((x) => x.name === CLOUD_NAME);
      if (c?.online) {
        say(`cloud ${c.name} is online (${c.driver} driver, room for ${c.free_instances} instances)`);
        return;
      }
      if (Date.now() > deadline)
        throw new OperationFailedError(`cloud agent ${CLOUD_NAME} did not come online at the gateway within 30 s`);
      await sleep(300, stop);
    }
  }
}

/** The demo starts afresh by removing its directory: never one it did not make. */
function checkDemoDir(dir: string): void {
  if (!existsSync(dir) || readdirSync(dir).length === 0) return;
  if (existsSync(join(dir, 'gateway.ini')) || existsSync(join(dir, 'ejabberd', 'server.json'))) return;
  throw new UsageError(
    `${dir} exists and is not a demo directory (no gateway.ini, no ejabberd/server.json): the demo would delete it; choose another CLOUDGATE_DEMO_DIR`,
  );
}

function reportFailure(
  say: (l: string) => void,
  err: unknown,
  agents: AgentProcess[],
  events: DeploymentEventView[],
  out: ProgressStream,
): void {
  say(`failed: ${describeError(err)}`);
  if (events.length)
    out.write(
      `--- last deployment events ---\n${events
        .slice(-8)
        .map((e) => `${e.type}: ${e.message}`)
        .join('\n')}\n`,
    );
  const which = err instanceof AgentExited ? [err.agent] : agents;
  for (const a of which)
    out.write(
      `--- ${a.name} log (last lines of ${a.logFile}) ---\n${a.logTail(err instanceof AgentExited ? 30 : 12)}\n`,
    );
}
