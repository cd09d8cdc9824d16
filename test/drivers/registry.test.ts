import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudError, driverNames, loadDriver } from '../../drivers/index.js';

describe('driver registry', () => {
  it('names the three drivers and loads each lazily as a factory', async () => {
    assert.deepEqual(driverNames(), ['local', 'libvirt', 'ec2']);
    for (const n of driverNames()) assert.equal(typeof (await loadDriver(n)), 'function');
  });

  it('rejects an unknown name, listing the known ones', async () => {
    await assert.rejects(loadDriver('openstack'), (e: Error) =>
      e instanceof CloudError && e.kind === 'invalid' && e.message === 'unknown driver "openstack" (known: local, libvirt, ec2)');
    await assert.rejects(loadDriver('toString'), (e: Error) => e instanceof CloudError && e.kind === 'invalid');
  });
});
