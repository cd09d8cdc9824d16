/** `deploy`, `status`, `scale`, `destroy`: deployments from the command line. */
import type { Command } from 'commander';
import { UsageError, EXIT, matches, type DeploymentView, type GatewayClient, type WaitTarget } from '../client.js';
import { connectionOptions, withClient, seconds, fail, type CommonOpts, type Outcome } from './run.js';
import { createProgress } from './progress.js';
import { deploymentDetail, deploymentsTable, serviceSummary } from './format.js';

interface WaitOpts extends CommonOpts {
  wait?: boolean;
  timeout?: string;
  progress?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function parseCounts(items: string[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)=(\d+)$/.exec(it.trim());
    if (!m) throw new UsageError(`--count expects service=n (a whole number), got '${it}'`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function parseCount(v: string, what: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`${what}: expected a whole number, got '${v}'`);
  return Number(v);
}

export function passphraseFrom(envVar: string | undefined): string | undefined {
  if (!envVar) return undefined;
  const v = process.env[envVar];
  if (!v) throw new UsageError(`--passphrase-env ${envVar}: that environment variable is not set`);
  return v;
}

/** The deploy inputs of `--count` and `--passphrase-env`, or a usage error that ends the command. */
export function deployInputs(o: CommonOpts & DeployInputOpts): { counts: Record<string, number>; passphrase?: string } {
  try {
    return { counts: parseCounts(o.count), passphrase: passphraseFrom(o.passphraseEnv) };
  } catch (err) {
    fail(o, err);
  }
}
export interface DeployInputOpts {
  count?: string[];
  passphraseEnv?: string;
}
/** Adds `--count` (repeatable) and `--passphrase-env` to a command that deploys. */
export const deployInputOptions = (cmd: Command): Command =>
  cmd
    .option('--count <service=n>', 'initial count of a scalable service (repeatable)', collect)
    .option('--passphrase-env <VAR>', 'environment variable holding the passphrase of encrypted contexts');

/** Why instances failed (a rejected context names plugin, line, section and key), one per line. */
const failureReasons = (d: DeploymentView): string =>
  d.instances
    .filter((i) => i.state === 'failed' && i.reason)
    .map((i) => `\n  ${i.name}: ${i.reason}`)
    .join('');

/** Waits with progress on stderr; a deployment that failed or was aborted is exit 1. */
async function waitAndReport(
  gw: GatewayClient,
  d: DeploymentView,
  targets: WaitTarget[],
  o: WaitOpts,
  what: string,
  afterSeq?: number,
): Promise<Outcome> {
  const progress = o.json || o.progress === false ? undefined : createProgress({ start: Date.now() });
  try {
    progress?.view(d);
    const final = await gw.waitFor(d.id, targets, {
      timeoutMs: seconds(o.timeout, '--timeout', 600_000),
      afterSeq,
      onProgress: ({ view, event }) => {
        if (view) progress?.view(view);
        if (event) progress?.event(event);
      },
    });
    progress?.end();
    const ok = matches(final, targets);
    if (!ok) {
      return {
        json: { deployment: final },
        text: deploymentDetail(final),
        exit: EXIT.failed,
        message: `deployment ${final.id} ${final.state} (${serviceSummary(final)})${failureReasons(final)}`,
      };
    }
    return { json: { deployment: final }, text: `deployment ${final.id} ${what} (${serviceSummary(final)})` };
  } finally {
    progress?.end();
  }
}

export function registerDeploymentCommands(program: Command): void {
  connectionOptions(
    deployInputOptions(
      program
        .command('deploy')
        .description('deploy a cluster definition; with --wait, show progress until it is ready or failed')
        .argument('<cluster>', 'cluster definition name (see `cloudgate clusters`)'),
    )
      .option('--wait', 'wait until every service is ready (exit 1 if the deployment fails)')
      .option('--timeout <seconds>', 'with --wait: give up after this long (exit 5)', '600')
      .option('--no-progress', 'with --wait: no progress display'),
  ).action(async (cluster: string, o: WaitOpts & DeployInputOpts) => {
    const inputs = deployInputs(o);
    await withClient(o, async (gw) => {
      const d = await gw.deploy(cluster, inputs);
      if (!o.wait)
        return {
          json: { deployment: d },
          text: `deployment ${d.id} of ${d.cluster}: ${d.state} (${serviceSummary(d)})\nfollow it with: cloudgate status ${d.id}`,
        };
      return waitAndReport(gw, d, ['ready', 'completed'], o, 'ready');
    });
  });

  connectionOptions(
    program
      .command('status')
      .description('list your deployments, or show one with its services and instances')
      .argument('[id]', 'deployment id'),
  ).action(async (id: string | undefined, o: CommonOpts) => {
    await withClient(o, async (gw) => {
      if (id === undefined) {
        const ds = await gw.status();
        return { json: { deployments: ds }, text: deploymentsTable(ds) };
      }
      const d = await gw.status(id);
      return { json: { deployment: d }, text: deploymentDetail(d) };
    });
  });

  connectionOptions(
    program
      .command('scale')
      .description('set the number of instances of a scalable service')
      .argument('<id>', 'deployment id')
      .argument('<service>', 'service name')
      .argument('<n>', 'wanted number of instances')
      .option('--wait', 'wait until the service has n ready instances')
      .option('--timeout <seconds>', 'with --wait: give up after this long (exit 5)', '600')
      .option('--no-progress', 'with --wait: no progress display'),
  ).action(async (id: string, service: string, n: string, o: WaitOpts) => {
    let count: number;
    try {
      count = parseCount(n, '<n>');
    } catch (err) {
      fail(o, err);
    }
    await withClient(o, async (gw) => {
      // Only what happens from now on is progress of this scale.
      const since = o.wait ? await gw.lastEventSeq(id).catch(() => undefined) : undefined;
      const d = await gw.scale(id, service, count);
      if (!o.wait)
        return {
          json: { deployment: d },
          text: `deployment ${d.id}: ${service} scaling to ${count} (${serviceSummary(d)})`,
        };
      return waitAndReport(gw, d, ['ready'], o, 'scaled', since);
    });
  });

  connectionOptions(
    program
      .command('destroy')
      .description('terminate every instance of a deployment and end it')
      .argument('<id>', 'deployment id')
      .option('--wait', 'wait until no instance of it is left')
      .option('--timeout <seconds>', 'with --wait: give up after this long (exit 5)', '600')
      .option('--no-progress', 'with --wait: no progress display'),
  ).action(async (id: string, o: WaitOpts) => {
    await withClient(o, async (gw) => {
      const since = o.wait ? await gw.lastEventSeq(id).catch(() => undefined) : undefined;
      const d = await gw.destroy(id);
      if (!o.wait) return { json: { deployment: d }, text: `deployment ${d.id}: destroying (${d.state})` };
      return waitAndReport(gw, d, ['gone'], o, 'destroyed: no instance left', since);
    });
  });
}
