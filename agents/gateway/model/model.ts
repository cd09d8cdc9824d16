/**
 * The gateway's model: every repository over one database, sharing a clock and an id
 * source. Built by the gateway's index.ts from the database core/store.ts opened.
 */
import type { Db } from '../../../core/index.js';
import { createAutoscale, createAutoscaleReads } from './autoscale.js';
import { createClusterDefs } from './cluster-defs.js';
import { createContexts } from './contexts.js';
import { createDeployments } from './deployments.js';
import { createEvents } from './events.js';
import { createInstances } from './instances.js';
import { createJobs } from './jobs.js';
import { randomId, type RepoDeps } from './repo.js';
import { createGroups, createUsers } from './users.js';
import { createWanted } from './wanted.js';
import type { DeploymentEvent } from './events.js';
import type { ClusterDef } from './cluster.js';

export interface ModelOptions {
  now?: () => number;
  newId?: (prefix: string) => string;
  /** Called after each event is appended (inside its transaction: schedule work, do not do it). */
  onEvent?: (e: DeploymentEvent) => void;
  /** Checks (and may complete) a parsed cluster definition before it is stored. */
  checkCluster?: (def: ClusterDef, file: string) => ClusterDef;
}

export function createGatewayModel(db: Db, opts: ModelOptions = {}) {
  const deps: RepoDeps = { db, now: opts.now ?? Date.now, newId: opts.newId ?? randomId };
  const events = createEvents({ ...deps, onAppend: opts.onEvent });
  return {
    db,
    users: createUsers(deps),
    groups: createGroups(deps),
    contexts: createContexts(deps),
    clusters: createClusterDefs({ ...deps, check: opts.checkCluster }),
    deployments: createDeployments({ ...deps, events }),
    instances: createInstances({ ...deps, events }),
    jobs: createJobs({ ...deps, events }),
    wanted: createWanted(deps),
    autoscale: createAutoscale(deps),
    autoscaleReads: createAutoscaleReads(deps),
    events,
    /** Runs `fn` in one transaction (nested calls become savepoints). */
    transaction<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
  };
}

export type GatewayModel = ReturnType<typeof createGatewayModel>;
