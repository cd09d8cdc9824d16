/**
 * Agents a benchmark runs as their own OS processes (`cloudgate agent <kind> --config f`),
 * exactly as the demo runs them (agents/demo/processes.ts: own process group, log file,
 * SIGTERM then SIGKILL, killed if this process exits first), plus their memory and CPU.
 */
import { spawnAgent as spawnDemoAgent, type AgentProcess as DemoProcess } from '../../agents/demo/index.js';
import { processCpuS, processMemory, type Rss } from './proc.js';

export interface AgentProcess extends DemoProcess {
  memory(): Rss | undefined;
  cpuS(): number | undefined;
}

export function spawnAgent(
  name: string,
  command: readonly string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): AgentProcess {
  const p = spawnDemoAgent(name, command, logFile, env);
  return Object.assign(p, {
    memory: () => processMemory(p.pid),
    cpuS: () => processCpuS(p.pid),
  });
}
