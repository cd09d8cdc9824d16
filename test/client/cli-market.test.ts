/**
 * The marketplace commands of the CLI (child processes) against a real gateway and a real
 * ejabberd: one user publishes, another searches (words, +tag, -tag), votes and clones.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gateway } from '../../agents/gateway/index.js';
import { loadJwtKey, mintToken } from '../../core/index.js';
import { gateway as gw } from '../../protocols/index.js';
import { CONTEXT, clusterIni, engineSuite, startGateway } from '../gateway/harness.js';

const cliJs = join(fileURLToPath(new URL('../../../', import.meta.url)), 'dist', 'agents', 'cli.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliJs, ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe('cloudgate market, publish, vote, clone, unpublish against a real gateway', { timeout: 240_000 }, () => {
  const s = engineSuite('cgt-cli-market-');
  let g: Gateway;
  const env = (user: string): Record<string, string> => ({
    CLOUDGATE_SERVER: s.t.service.replace('xmpp://', ''),
    CLOUDGATE_JID: `${user}@${s.t.host}`,
    CLOUDGATE_GATEWAY: g.agent.jid,
    CLOUDGATE_JWT_KEY: s.t.server.info.jwtKeyFile,
    CLOUDGATE_CA: s.t.server.info.certFile,
    XDG_CONFIG_HOME: mkdtempSync(join(s.dir, 'cfg-')),
  });

  test('publish, search with words, +tag and -tag, vote, clone, unpublish; usage errors exit 2', async () => {
    g = await startGateway(s.t, { dir: s.dir, clouds: [] });
    s.running.push(g);
    await s.alice.request(gw.PutContext, g.agent.jid, {
      name: 'condor',
      body: CONTEXT,
      visibility: undefined,
      passphrase: undefined,
    });
    const alice = env('alice');
    const carl = env('carl');

    const pub = await cli(
      [
        'publish',
        'condor',
        '--summary',
        'HTCondor worker',
        '--description',
        'joins the pool of the head',
        '--tags',
        'batch,condor',
        '--json',
      ],
      alice,
    );
    assert.equal(pub.code, 0, pub.stderr);
    const entry = JSON.parse(pub.stdout).entry as { id: string; owner: string; tags: string[] };
    assert.deepEqual([entry.owner, entry.tags], [`alice@${s.t.host}`, ['batch', 'condor']]);

    const found = await cli(['market', 'pool', '+condor'], carl);
    assert.equal(found.code, 0, found.stderr);
    assert.match(
      found.stdout,
      new RegExp(
        `^1 entry, page 1 of 1\\n${entry.id}  condor v1 by alice@\\S+  rank 0 \\(0 votes\\)  \\[batch condor\\]\\n    HTCondor worker$`,
        'm',
      ),
    );
    const excluded = await cli(['market', '+condor', '-batch'], carl);
    assert.equal(excluded.code, 0, excluded.stderr);
    assert.match(excluded.stdout, /^nothing in the marketplace matches$/m);
    const json = await cli(['market', '--json', '--', '-web', 'condor'], carl);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      JSON.parse(json.stdout).entries.map((e: { id: string }) => e.id),
      [entry.id],
    );

    const up = await cli(['vote', entry.id, 'up'], carl);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, new RegExp(`^${entry.id} now ranks 1 \\(1 vote\\)$`, 'm'));
    const own = await cli(['vote', entry.id, 'up'], alice);
    assert.equal(own.code, 3, 'refused: one cannot vote for one\u2019s own entry');
    assert.match(own.stderr, /your own entry/);
    assert.equal((await cli(['vote', entry.id, 'sideways'], carl)).code, 2);
    assert.equal((await cli(['publish', '--summary', 'nothing named'], alice)).code, 2);

    const cl = await cli(['clone', entry.id, 'my-condor'], carl);
    assert.equal(cl.code, 0, cl.stderr);
    assert.match(cl.stdout, /^cloned \S+ into your context my-condor \(\S+\)$/m);
    assert.ok(g.model.contexts.byName(`carl@${s.t.host}`, 'my-condor'));

    const un = await cli(['unpublish', entry.id], alice);
    assert.equal(un.code, 0, un.stderr);
    assert.equal(g.market.get(entry.id), undefined);
    assert.equal((await cli(['clone', entry.id], carl)).code, 4, 'not found once unpublished');
  });

  test('deploy-entry deploys a published cluster as the user\u2019s copy; pair-entry makes a code; bad input exits 2', async () => {
    const key = await loadJwtKey(s.t.server.info.jwtKeyFile);
    const g2 = await startGateway(s.t, {
      dir: s.dir,
      clouds: [],
      user: 'gateway2',
      dbName: 'gateway2.db',
      pairing: {
        mint: (jid) => mintToken(key, jid, 600),
        httpPort: 0,
        domain: s.t.host,
        server: `${s.t.server.info.ip}:${s.t.server.info.c2sPort}`,
      },
    });
    s.running.push(g2);
    const env2 = (user: string) => ({ ...env(user), CLOUDGATE_GATEWAY: g2.agent.jid });
    await s.alice.request(gw.PutContext, g2.agent.jid, {
      name: 'condor',
      body: CONTEXT,
      visibility: undefined,
      passphrase: undefined,
    });
    await s.alice.request(gw.PutCluster, g2.agent.jid, { definition: clusterIni({ name: 'pool' }) });
    const pub = async (what: { context?: string; cluster?: string }) =>
      (
        await s.alice.request(gw.Publish, g2.agent.jid, {
          ...what,
          summary: 'shared',
          description: undefined,
          tags: undefined,
        })
      ).entry.id;
    const ctxEntry = await pub({ context: 'condor' });
    const poolEntry = await pub({ cluster: 'pool' });
    const carl = env2('carl');

    const d = await cli(['deploy-entry', poolEntry, '--count', 'worker=3'], carl);
    assert.equal(d.code, 0, d.stderr);
    assert.match(
      d.stdout,
      // This gateway has no clouds: the deployment may have failed its placement already.
      new RegExp(`^cloned ${poolEntry} into your cluster pool\\ndeployment (d-\\S+) of pool: (pending|failed)$`, 'm'),
    );
    const again = await cli(['deploy-entry', poolEntry, '--json'], carl);
    assert.equal(again.code, 0, again.stderr);
    const r = JSON.parse(again.stdout) as { cloned: boolean; cluster: { owner: string }; deployment: { id: string } };
    assert.deepEqual([r.cloned, r.cluster.owner], [false, `carl@${s.t.host}`]);
    assert.equal(g2.model.deployments.require(r.deployment.id).owner, `carl@${s.t.host}`);
    assert.equal((await cli(['deploy-entry', poolEntry, '--count', 'worker'], carl)).code, 2);
    const ctxDeploy = await cli(['deploy-entry', ctxEntry], carl);
    assert.notEqual(ctxDeploy.code, 0);
    assert.match(ctxDeploy.stderr, /is a context: clone it/);

    const p = await cli(['pair-entry', ctxEntry, '--ttl', '120'], carl);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^pairing code for condor v1: [0-9A-Z]{4}(-[0-9A-Z]{4}){3} \(single use, expires /m);
    assert.equal((await cli(['pair-entry', ctxEntry, '--ttl', '5'], carl)).code, 2);
    const cl = await cli(['pair-entry', poolEntry], carl);
    assert.notEqual(cl.code, 0);
    assert.match(cl.stderr, /is a cluster: deploy it/);
  });
});
