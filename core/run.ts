/**
 * How an agent kind is started from the command line: `agents/<kind>/index.ts` exports
 * `run(configFile)`, which parses its INI file, wires its modules and starts it.
 */
import type { Agent } from './agent.js';

export interface RunningAgent {
  agent: Agent;
  stop(): Promise<void>;
}

export type RunAgent = (configFile: string) => Promise<RunningAgent>;

/** Stops on SIGINT/SIGTERM, once; a second signal exits at once. */
export function stopOnSignals(running: RunningAgent, onStopped: () => void = () => process.exit(0)): void {
  let stopping = false;
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    running.agent.log.info({ signal: sig }, 'stopping');
    running.stop().then(onStopped, (err) => {
      running.agent.log.error({ err }, 'stop failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
