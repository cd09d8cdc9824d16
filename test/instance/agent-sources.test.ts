import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { TestServer } from '../helpers/ejabberd.js';
import { ContextNotFoundError } from '../../agents/instance/context/index.js';
import { NoIdentityError, METRICS_FILE, run } from '../../agents/instance/index.js';
import {
  cloudgateFor,
  startInstance,
  startServer,
  tempDir,
  testGateway,
  waitFor,
  type TestGateway,
} from './agent-helpers.js';
import { serve } from './helpers.js';

const BODY = '[amiconfig]\nplugins = files\n[files]\n/etc/motd =\n    hello from the context\n';

describe('instance agent: contexts from each source reach ready at the gateway', () => {
  let t: TestServer;
  let gw: TestGateway;
  before(async () => {
    t = await startServer();
    gw = await testGateway(t);
  });
  after(async () => {
    await gw?.agent.stop();
    await t?.stop();
  });

  const readyAt = (id: string) =>
    waitFor(`ready presence of ${id}`, () => gw.presences.find((p) => p.instance_id === id && p.phase === 'ready'));

  test('file (CLOUDGATE_CONTEXT_FILE): applied, ready presence, ContextReport ok, heartbeats with metrics', async (tc) => {
    const root = tempDir(tc);
    const file = join(tempDir(tc), 'context.ini');
    writeFileSync(file, BODY + (await cloudgateFor(t, 'vm-file', { version: 3 })));
    mkdirSync(join(root, 'var/lib/cloudgate'), { recursive: true });
    writeFileSync(join(root, METRICS_FILE), '# from a job script\nqueue_length=7\nnot a metric\nload.custom = 0.5\n');
    const ia = await startInstance(tc, {
      root,
      env: { CLOUDGATE_CONTEXT_FILE: file, CLOUDGATE_INSTANCE_ID: 'i-file' },
      heartbeatIntervalS: 0.2,
    });

    assert.equal(ia.located.source, 'file');
    assert.equal(readFileSync(join(root, 'etc/motd'), 'utf8'), 'hello from the context\n');
    const p = await readyAt('i-file');
    assert.deepEqual({ v: p.context_version, ready: p.ready, busy: p.busy }, { v: 3, ready: true, busy: false });
    const report = await waitFor('context report', () => gw.reports.find((r) => r.instance_id === 'i-file'));
    assert.equal(report.ok, true);
    assert.equal(report.version, 3);
    assert.deepEqual(
      report.results.map((r: any) => `${r.plugin}=${r.status}`),
      ['files=ok'],
    );

    // Beats run from login on, so on a slow machine the first may still say contextualizing;
    // every beat after the ready presence says ready.
    const mine = () => gw.beats.filter((x) => x.instance_id === 'i-file');
    const seen = mine().length;
    const two = await waitFor('two heartbeats after ready', () => {
      const b = mine().slice(seen);
      return b.length >= 2 && b;
    });
    assert.ok(two[1].seq > two[0].seq);
    assert.deepEqual(
      two.map((b: any) => b.phase),
      ['ready', 'ready'],
    );
    assert.ok(
      mine().every((b: any) => b.phase === 'contextualizing' || b.phase === 'ready'),
      'no other phase on the way',
    );
    assert.equal(two[0].context_version, 3);
    assert.deepEqual({ ...two[0].custom }, { queue_length: '7', 'load.custom': '0.5' });
    for (const k of ['load1', 'mem_used_pct', 'disk_used_pct']) assert.equal(typeof two[0][k], 'number', k);
    assert.ok(two[0].mem_used_pct > 0 && two[0].mem_used_pct <= 100);
  });

  test('metadata (EC2 user-data, gzipped): applied and ready', async (tc) => {
    const root = tempDir(tc);
    const ctx = BODY + (await cloudgateFor(t, 'vm-meta', { instanceId: 'i-meta' }));
    const { url } = await serve(tc, (req, res) => {
      if (req.url === '/latest/user-data') {
        res.end(gzipSync(ctx));
        return;
      }
      res.statusCode = 404;
      res.end();
    });
    const ia = await startInstance(tc, { root, metadataUrl: `${url}/latest/user-data` });
    assert.equal(ia.located.source, 'metadata');
    assert.equal(ia.identity.instanceId, 'i-meta');
    assert.ok(existsSync(join(root, 'etc/motd')));
    await readyAt('i-meta');
  });

  test('config drive (libvirt / NoCloud user-data file): applied and ready', async (tc) => {
    const root = tempDir(tc);
    const drive = join(tempDir(tc), 'cidata');
    mkdirSync(drive);
    writeFileSync(join(drive, 'user-data'), BODY + (await cloudgateFor(t, 'vm-drive')));
    const ia = await startInstance(tc, { root, configDrive: drive });
    assert.equal(ia.located.source, 'config-drive');
    assert.equal(ia.identity.instanceId, 'vm-drive', 'the JID local part when nothing else names the instance');
    await readyAt('vm-drive');
  });

  test('run(configFile), as `cloudgate agent instance --config f.ini` calls it', async (tc) => {
    const dir = tempDir(tc);
    const ctx = join(dir, 'context.ini');
    writeFileSync(ctx, BODY + (await cloudgateFor(t, 'vm-ini')));
    const ini = join(dir, 'instance.ini');
    const nowhere = `http://127.0.0.1:${await import('./helpers.js').then((h) => h.closedPort())}/latest/user-data`;
    writeFileSync(
      ini,
      `[instance]\nroot = root\ncontext_file = context.ini\nmetadata_url = ${nowhere}\nconfig_drive = none\ninstance_id = i-ini\nstate_db = state/agent.db\n[log]\nlevel = silent\n`,
    );
    const running = await run(ini);
    tc.after(() => running.stop());
    await readyAt('i-ini');
    assert.equal(readFileSync(join(dir, 'root/etc/motd'), 'utf8'), 'hello from the context\n');
    assert.ok(existsSync(join(dir, 'state/agent.db')));
  });

  test('nothing found: a clear error listing every source', async (tc) => {
    const root = tempDir(tc);
    await assert.rejects(startInstance(tc, { root }), (e: unknown) => {
      assert.ok(e instanceof ContextNotFoundError);
      assert.deepEqual(
        e.attempts.map((a) => a.source),
        ['file', 'metadata', 'config-drive'],
      );
      return true;
    });
  });

  test('a context without [cloudgate] is applied, then the agent says it cannot join', async (tc) => {
    const root = tempDir(tc);
    const file = join(root, 'ctx.ini');
    writeFileSync(file, BODY);
    await assert.rejects(startInstance(tc, { root, contextFile: file }), (e: unknown) => {
      assert.ok(e instanceof NoIdentityError);
      assert.equal(e.code, 'CG_INSTANCE_NO_IDENTITY');
      assert.equal(e.report.ok, true);
      return true;
    });
    assert.ok(existsSync(join(root, 'etc/motd')));
  });
});
