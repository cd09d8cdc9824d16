/**
 * What an attack must not change, read straight from each target: the gateway's rows for
 * the victim (and the count of everything users own), the cloud agent's requests and
 * instances and what its driver runs, and the instance agent's phase, context version
 * and files a command would have left.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Targets } from './targets.js';

type Rows = Record<string, unknown[]>;

export function gatewayState(tg: Targets): Rows {
  const db = tg.gateway.model.db;
  const dep = tg.victim.deployment;
  const all = (sql: string, ...args: unknown[]) => db.prepare(sql).all(...args);
  return {
    deployment: all('SELECT * FROM deployments WHERE id = ?', dep),
    instances: all('SELECT * FROM instances WHERE deployment_id = ? ORDER BY id', dep),
    jobs: all('SELECT * FROM jobs WHERE deployment_id = ? ORDER BY id', dep),
    events: all('SELECT * FROM events WHERE deployment_id = ? ORDER BY seq', dep),
    wanted: all('SELECT * FROM deployment_services WHERE deployment_id = ? ORDER BY service', dep),
    contexts: all('SELECT * FROM contexts WHERE owner = ? ORDER BY id', `alice@${tg.t.host}`),
    versions: all('SELECT context_id, number, body FROM context_versions ORDER BY context_id, number'),
    clusters: all('SELECT * FROM clusters ORDER BY id'),
    counts:
      all(`SELECT (SELECT count(*) FROM deployments) AS deployments, (SELECT count(*) FROM instances) AS instances,
      (SELECT count(*) FROM jobs) AS jobs, (SELECT count(*) FROM contexts) AS contexts, (SELECT count(*) FROM clusters) AS clusters`),
  };
}

export async function cloudState(tg: Targets): Promise<Rows> {
  const db = tg.cloud.agent.db;
  return {
    instances: db.prepare('SELECT * FROM cloud_instances ORDER BY name').all(),
    live: (await tg.cloud.driver.describe())
      .filter((i) => i.state !== 'terminated')
      .map((i) => `${i.name} ${i.state}`)
      .sort(),
  };
}

export function instanceState(tg: Targets): Rows {
  const s = tg.instance.life.snapshot();
  const root = join(tg.dir, 'vm');
  let files: string[] = [];
  try {
    files = readdirSync(root).filter((f) => f.startsWith('pwned'));
  } catch {
    /* no root: nothing ran */
  }
  return {
    life: [{ phase: s.phase, contextVersion: s.contextVersion, busy: s.busy, draining: tg.instance.life.isDraining }],
    pwned: files,
  };
}
