import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from '../../core/index.js';
import { CloudError, driverDescriptor, driverNames, driverSecretKeys, loadDriver } from '../../drivers/index.js';
import { tempDir } from '../cloud/helpers.js';
import { until } from '../helpers/wait.js';

describe('driver registry', () => {
  it('names the four drivers and loads each lazily as a factory', async () => {
    assert.deepEqual(driverNames(), ['local', 'libvirt', 'ec2', 'openstack']);
    for (const n of driverNames()) assert.equal(typeof (await loadDriver(n)), 'function');
  });

  it('rejects an unknown name, listing the known ones', async () => {
    await assert.rejects(
      loadDriver('cloudstack'),
      (e: Error) =>
        e instanceof CloudError &&
        e.kind === 'invalid' &&
        e.message === 'unknown driver "cloudstack" (known: local, libvirt, ec2, openstack)',
    );
    await assert.rejects(loadDriver('toString'), (e: Error) => e instanceof CloudError && e.kind === 'invalid');
    assert.equal(driverDescriptor('toString'), undefined);
  });

  it('describes each driver: options, secret options and features, without loading it', () => {
    for (const n of driverNames()) {
      const d = driverDescriptor(n)!;
      assert.equal(d.name, n);
      assert.ok(d.options.keys.length > 0, `${n} declares its options`);
      for (const s of d.options.secrets)
        assert.ok(d.options.keys.includes(s), `${n}: secret ${s} is one of its options`);
      assert.ok(d.features.includes('userdata'), `${n} declares its features`);
    }
    assert.ok(driverDescriptor('local')!.options.keys.includes('max_instances'));
    assert.deepEqual(driverDescriptor('ec2')!.options.prefixes, ['image', 'flavor']);
    assert.deepEqual(driverSecretKeys(), [
      'access_key_id',
      'secret_access_key',
      'session_token',
      'password',
      'application_credential_secret',
    ]);
  });

  it('the core logger redacts every driver secret option, configured from the descriptors', async () => {
    const tmp = tempDir('redact');
    try {
      const file = join(tmp.dir, 'log.jsonl');
      const log = createLogger({ level: 'info', destination: file, secretKeys: driverSecretKeys() });
      log.info(
        {
          options: { region: 'eu-west-1', secret_access_key: 'sk-very-secret-1', access_key_id: 'AKIDSECRET1' },
          session_token: 'tok-secret-2',
        },
        'driver options',
      );
      log.flush();
      const text = await until('the log line', () => {
        try {
          return readFileSync(file, 'utf8');
        } catch {
          return undefined;
        }
      });
      assert.match(text, /eu-west-1/);
      for (const s of ['sk-very-secret-1', 'AKIDSECRET1', 'tok-secret-2']) assert.ok(!text.includes(s), `${s} logged`);
      assert.equal((text.match(/\[redacted\]/g) ?? []).length, 3);
    } finally {
      tmp.remove();
    }
  });
});
