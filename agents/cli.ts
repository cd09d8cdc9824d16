#!/usr/bin/env node
/** The `cloudgate` command: runtime commands plus the gateway's client commands. */
import { Command } from 'commander';
import { registerCoreCommands } from './runtime.js';
import { registerImageCommands } from '../images/index.js';

const program = new Command('cloudgate').description(
  'deploy, contextualize, watch and scale virtual machines and clusters over XMPP',
);
registerCoreCommands(program);
registerImageCommands(program);
try {
  const clientCommands = './gateway/cli.js'; // absent in builds without the gateway
  const gw = (await import(clientCommands)) as { registerClientCommands?: (p: Command) => void };
  gw.registerClientCommands?.(program);
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
}
await program.parseAsync(process.argv);
