/**
 * examples/api.sh, the curl walkthrough of the HTTP API, run end to end: a real ejabberd
 * (the password checked by a SASL login), a real cloud agent on the local driver whose
 * instances are real instance agent processes, and the gateway with its HTTP API.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudAgent } from '../../agents/cloud/index.js';
import type { Gateway } from '../../agents/gateway/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { clusterIni, startGateway, until } from '../gateway/harness.js';
import { running, startCloud, startServer } from '../gateway/e2e-setup.js';

describe('examples/api.sh against a gateway on the local driver', { timeout: 300_000 }, () => {
  let t: TestServer;
  let dir: string;
  let cloud: CloudAgent;
  let g: Gateway;

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-api-sh-'));
    const gateway = `gateway@${t.host}`;
    cloud = await startCloud(t, dir, { name: 'cloud-a', driver: 'local', gateway, users: `walker@${t.host}` });
    g = await startGateway(t, {
      dir,
      clouds: [cloud.config.raw.xmpp.jid],
      http: { host: '127.0.0.1', port: 0 },
      settings: { heartbeatTimeoutMs: 30_000, readyTimeoutMs: 60_000 },
    });
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    await t.register('walker', 'walker-password-1');
  });
  after(async () => {
    await g?.stop().catch(() => {});
    await cloud?.stop().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('logs in, deploys, follows the stream to completed, scales and destroys', async () => {
    const cluster = join(dir, 'cluster.ini');
    writeFileSync(cluster, clusterIni({ context: 'worker', initial: 1, max: 3 }));
    const child = spawn('bash', ['examples/api.sh'], {
      env: {
        ...process.env,
        CLOUDGATE_API_URL: g.http!.url,
        CLOUDGATE_API_USER: `walker@${t.host}`,
        CLOUDGATE_API_PASSWORD: 'walker-password-1',
        CLOUDGATE_API_CLUSTER: cluster,
        CLOUDGATE_API_CONTEXTS: 'examples/worker.context.ini',
        CLOUDGATE_API_SCALE: 'worker=2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      err += c;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `api.sh failed:\n${err}\n${out}`);
    assert.match(out, /^deployment \S+: deployed, scaled, destroyed$/m);
    assert.match(err, /location: \/api\/v1\/deployments\//i);
    assert.match(err, /\] state: .*completed/);
    assert.ok(!err.includes('walker-password-1') && !out.includes('walker-password-1'));
    const id = /^deployment (\S+):/m.exec(out)![1]!;
    const d = g.model.deployments.require(id);
    assert.equal(d.owner, `walker@${t.host}`);
    assert.equal(g.model.wanted.get(id, 'worker'), 0);
    await until('no instance left on the cloud', async () => (await running(cloud)).length === 0);
  });
});
