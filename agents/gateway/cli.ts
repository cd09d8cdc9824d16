/**
 * The gateway's client commands for `cloudgate` (agents/cli.ts calls
 * registerClientCommands): deploy, status, scale, destroy, contexts, context, clusters,
 * cluster, clouds, whoami, pair, autoscale, market, publish, unpublish, vote, clone, deploy-entry, pair-entry, image publish, images — each one session with the gateway through the client
 * library, `--json` for scripts, and exit codes that mean something.
 */
import type { Command, CommanderError } from 'commander';
import { EXIT, EXIT_CODES_HELP } from './client.js';
import { registerDeploymentCommands } from './cli/deployments.js';
import { registerCatalogCommands } from './cli/catalog.js';
import { registerAutoscaleCommands } from './cli/autoscale.js';
import { registerMarketCommands } from './cli/market.js';
import { registerImagePublish } from './cli/images.js';
import { CONNECTION_HELP } from './cli/run.js';

export {
  createProgress,
  elapsed,
  bar,
  type Progress,
  type ProgressOptions,
  type ProgressStream,
} from './cli/progress.js';

/** Commander's own errors (unknown option, missing argument) are usage errors: exit 2. */
const usageExit = (err: CommanderError): never => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);

export function registerClientCommands(program: Command): void {
  program.exitOverride(usageExit);
  registerDeploymentCommands(program);
  registerCatalogCommands(program);
  registerAutoscaleCommands(program);
  registerMarketCommands(program);
  registerImagePublish(program);
  const mine = new Set([
    'deploy',
    'status',
    'scale',
    'destroy',
    'contexts',
    'context',
    'clusters',
    'cluster',
    'clouds',
    'whoami',
    'pair',
    'autoscale',
    'market',
    'publish',
    'unpublish',
    'vote',
    'clone',
    'deploy-entry',
    'pair-entry',
    'image',
    'images',
  ]);
  const help = `\n${CONNECTION_HELP}\n\n${EXIT_CODES_HELP}`;
  for (const cmd of program.commands) {
    if (!mine.has(cmd.name())) continue;
    cmd.addHelpText('after', help);
    for (const sub of cmd.commands) sub.addHelpText('after', help);
  }
  program.addHelpText(
    'after',
    `\nClient commands talk to a gateway; \`cloudgate <command> --help\` for connection settings.\n\n${EXIT_CODES_HELP}`,
  );
}
