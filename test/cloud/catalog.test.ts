/** Generic and custom flavor sizes mapped onto a cloud's own flavors (no server needed). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCloudConfig } from '../../agents/cloud/index.js';
import { buildCatalog } from '../../agents/cloud/catalog.js';
import type { CloudDriver } from '../../drivers/index.js';

const config = parseCloudConfig(
  `
[xmpp]
jid = cloud@example.org
password = pw-123456
[cloud]
name = c1
driver = local
db = c1.sqlite
requesters = gw@example.org
[driver]
state_dir = /nonexistent
[flavor.small]
id = s
[flavor.medium]
id = m
[flavor.large]
id = l
[instances]
xmpp_domain = vms.example.org
jwt_key = key.jwk
server = xmpp.example.org
`,
  '/etc/cloudgate/c1.ini',
);

// Only the listing calls are used by the catalog; the rest would be a cloud.
const driver = {
  listFlavors: async () => [
    { id: 'l', name: 'l', cores: 4, memoryMb: 8192 },
    { id: 's', name: 's', cores: 1, memoryMb: 512 },
    { id: 'm', name: 'm', cores: 2, memoryMb: 2048 },
  ],
  listImages: async () => [{ id: 'cernvm-4', name: 'cernvm-4' }],
} as unknown as CloudDriver;

describe('cloud catalog', () => {
  it('maps a custom size to the smallest flavor that holds it', async () => {
    const c = await buildCatalog(config, driver);
    assert.equal(c.flavor('cores:2,memory:2048')?.id, 'm');
    assert.equal(c.flavor('cores:2,memory:4096')?.id, 'l');
    assert.equal(c.flavor('cores:1,memory:100')?.id, 's');
    assert.equal(c.check('cores:2,memory:4096', 'cernvm-4'), undefined);
  });

  it('refuses a size no flavor holds, and unknown names, with the reason', async () => {
    const c = await buildCatalog(config, driver);
    assert.match(
      c.check('cores:64,memory:4096', 'cernvm-4') ?? '',
      /no flavor of cloud c1 is large enough .*largest: large/,
    );
    assert.match(c.check('huge', 'cernvm-4') ?? '', /unknown flavor 'huge'.*small, medium, large/);
    assert.match(c.check('small', 'windows') ?? '', /unknown image 'windows'/);
  });
});
