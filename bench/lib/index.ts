// Helpers shared by the scale benchmarks (agents, deploy). bench/lib.ts holds the
// benchmark contract, flag parsing and statistics every benchmark uses.
export { paced, type PaceOptions, type Paced } from './pace.js';
export {
  ownMemory,
  processMemory,
  groupProcesses,
  beamMemory,
  beamPid,
  processCpuS,
  ownCpuS,
  type Rss,
} from './proc.js';
export { withEjabberd, type BenchEjabberd, type EjabberdOptions } from './server.js';
export { outcome, unlessAborted, describe, DeadlineError, type Result } from './outcome.js';
export { countingLogger, topCounts, type CountingLog } from './log.js';
export { collector, type Collector, type Fanout } from './collector.js';
export { startFleet, type Fleet, type FleetOptions } from './fleet.js';
export { startProcFleet, Broadcast, type ProcFleet, type ProcFleetOptions } from './fleet-procs.js';
export { wordsToIndexes, wordOf, type WordFlags } from './words.js';
export { Arrivals } from './arrivals.js';
export { spawnAgent, type AgentProcess } from './procs.js';
export {
  writeDeployFiles,
  driverOptions,
  clusterIni,
  DRIVERS,
  CLOUD,
  CLUSTER,
  SERVICE,
  CONTEXT,
  type DriverKind,
  type DeployFiles,
} from './deploy-files.js';
export { driverBaseline, removeAll, type Baseline } from './baseline.js';
export {
  stockPair,
  withoutCertificateChecks,
  stockRate,
  stockRtt,
  settle,
  cpuMeter,
  type StockPair,
  type StockServer,
  type Pacing,
  type Rate,
  type Rtt,
} from './stock-pair.js';
export { tailed, type Tail, type TailedRtt } from './tail.js';
