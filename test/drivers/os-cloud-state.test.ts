/**
 * The shared OpenStack test cloud's hand-over (test/helpers/openstack/shared.ts): a file
 * waiting for it fails in one line naming why the cloud could not start, never skips.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { STATE_ENV, testCloud } from '../helpers/openstack/index.js';
import { run } from '../helpers/openstack/daemons.js';

describe('OpenStack test cloud state', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-osstate-'));
  const saved = process.env[STATE_ENV];
  after(() => {
    if (saved === undefined) delete process.env[STATE_ENV];
    else process.env[STATE_ENV] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails in one line with the reason when the cloud could not start', async () => {
    const file = join(dir, 'failed.json');
    writeFileSync(file, JSON.stringify({ status: 'failed', reason: 'Debian packages missing: keystone nova-api' }));
    process.env[STATE_ENV] = file;
    await assert.rejects(testCloud(5000), (e: Error) => {
      assert.equal(e.message, 'OpenStack test cloud could not start: Debian packages missing: keystone nova-api');
      return true;
    });
  });

  it('fails naming the state file when the cloud never becomes ready', async () => {
    const file = join(dir, 'starting.json');
    writeFileSync(file, JSON.stringify({ status: 'starting', pid: process.pid }));
    process.env[STATE_ENV] = file;
    await assert.rejects(
      testCloud(1000),
      (e: Error) => /was not ready within 1 s/.test(e.message) && e.message.includes(file),
    );
  });

  it('fails at once when the starter died without writing why', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a pid that has just ended
    const file = join(dir, 'orphan.json');
    writeFileSync(file, JSON.stringify({ status: 'starting', pid: gone }));
    process.env[STATE_ENV] = file;
    const t0 = Date.now();
    await assert.rejects(testCloud(60_000), /its starter \(pid \d+\) ended without a word/);
    assert.ok(Date.now() - t0 < 30_000, 'not after the whole wait');
  });

  it('a command that exits before reading its input fails with its own error, not the pipe', async () => {
    // Large input, a command that reads none of it and fails: the write meets a closed pipe.
    await assert.rejects(run('sh', ['-c', 'exit 3'], { input: 'x'.repeat(1 << 20) }), /sh -c exit 3 failed/);
  });

  it('hands over the endpoints of a ready cloud', async () => {
    const file = join(dir, 'ready.json');
    const info = {
      dir,
      endpoints: { keystone: 'http://127.0.0.1:1', nova: 'n', glance: 'g', placement: 'p', neutron: 'q' },
      password: 'x',
      tokenLifetimeS: 30,
      region: 'RegionOne',
    };
    writeFileSync(file, JSON.stringify({ status: 'ready', info }));
    process.env[STATE_ENV] = file;
    const c = await testCloud(1000);
    assert.deepEqual(c.info, info);
    assert.equal(c.admin.endpoints.keystone, 'http://127.0.0.1:1');
  });
});
