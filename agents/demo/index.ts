/** Public face of agents/demo/ (run by main.ts): how it starts agent processes, which the benchmark reuses. */
export { spawnAgent, logTail, type AgentProcess } from './processes.js';
