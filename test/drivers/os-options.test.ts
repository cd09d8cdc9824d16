/** The openstack driver's options, and examples/cloud-openstack.ini, without a cloud. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'ini';
import { loadCloudConfig } from '../../agents/cloud/index.js';
import { ConfigError } from '../../core/errors.js';
import { driverDescriptor } from '../../drivers/index.js';
import { REPO_ROOT } from '../../drivers/shared/index.js';
import { readOpenStackOptions } from '../../drivers/openstack/options.js';

const EXAMPLE = join(REPO_ROOT, 'examples', 'cloud-openstack.ini');

describe('openstack options', () => {
  it('examples/cloud-openstack.ini documents every driver key, and its [driver] section is valid', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const d = driverDescriptor('openstack')!;
    const start = text.indexOf('\n[driver]\n');
    const section = text.slice(start, text.indexOf('\n[', start + 1));
    for (const k of d.options.keys) assert.match(section, new RegExp(`^;? ?${k} = `, 'm'), `${k} is shown`);
    for (const p of d.options.prefixes)
      assert.match(section, new RegExp(`^${p}\\.[a-z0-9-]+ = `, 'm'), `${p}.<id> is shown`);
    const { options, auth } = readOpenStackOptions(parse(text).driver as Record<string, string>);
    assert.equal(auth.method, 'password');
    assert.deepEqual(
      options.flavors.map((f) => f.id),
      ['small', 'medium', 'large'],
    );
    assert.deepEqual(options.flavors[2], { id: 'large', kind: 'size', cores: 8, memoryMb: 16384, diskGb: 40 });
    assert.equal(options.networks, 'auto');
    assert.equal(options.images.get('cernvm-4'), 'CernVM 4.7');
  });

  it('the example is a valid cloud agent configuration', () => {
    assert.equal(loadCloudConfig(EXAMPLE).raw.cloud.driver, 'openstack');
  });

  it('reads an application credential, and refuses it mixed with a password', () => {
    const base = {
      auth_url: 'http://k:5000/',
      application_credential_id: 'id1',
      application_credential_secret: 's3cr3t',
    };
    const { auth, options } = readOpenStackOptions(base);
    assert.deepEqual(auth, { method: 'application_credential', id: 'id1', secret: 's3cr3t' });
    assert.equal(options.authUrl, 'http://k:5000');
    assert.throws(
      () => readOpenStackOptions({ ...base, password: 'p' }),
      (e: Error) => e instanceof ConfigError && /"password"/.test(e.message) && !e.message.includes('s3cr3t'),
    );
  });

  it('names the key at fault', () => {
    const ok = { auth_url: 'http://k', username: 'u', password: 'p', project_name: 'x' };
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ ...ok, networks: 'none auto' }, /"networks"/],
      [{ ...ok, 'flavor.x': 'cores:2,memory:0' }, /"flavor\.x"/],
      [{ ...ok, 'flavor.x': 'cores:2,ram:4' }, /"flavor\.x"/],
      [{ ...ok, project_name: '' }, /"project_name"/],
      [{ ...ok, username: '' }, /"username"/],
      [{ ...ok, token_renew_before_s: '-1' }, /"token_renew_before_s"/],
    ];
    for (const [o, re] of bad) assert.throws(() => readOpenStackOptions(o), re);
    const { options } = readOpenStackOptions({ ...ok, networks: 'net-a, net-b', 'flavor.s': '42' });
    assert.deepEqual(options.networks, ['net-a', 'net-b']);
    assert.deepEqual(options.flavors, [{ id: 's', kind: 'ref', ref: '42' }]);
  });
});
