/**
 * The admission decision (agents/cloud/decision.ts): the one function allocation,
 * discovery and the presence ask. The gate part runs on a real store, the configured
 * policy and the local driver's own capacity.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../../core/index.js';
import { openDriver, type CloudDriver } from '../../drivers/index.js';
import { parseCloudConfig } from '../../agents/cloud/index.js';
import { decideAdmission, admissionGate, type AdmissionFacts } from '../../agents/cloud/decision.js';
import { policy as makePolicy } from '../../agents/cloud/policy.js';
import { cloudStore, MIGRATIONS } from '../../agents/cloud/store.js';
import { silentLogger } from '../helpers/log.js';
import { tempDir } from './helpers.js';

const none = { instances: 0, cores: 0, memoryMb: 0 };
const facts = (o: Partial<AdmissionFacts>): AdmissionFacts => ({
  cloud: 'c1',
  owner: 'ann@x',
  flavor: 'medium',
  size: { cores: 2, memoryMb: 1024 },
  count: 3,
  allowed: true,
  quota: { fits: 3 },
  capacity: undefined,
  waiting: none,
  ...o,
});

describe('admission decision', () => {
  it('admits everything when nothing limits', () => {
    assert.deepEqual(decideAdmission(facts({})), { admitted: 3, condition: undefined, reason: undefined });
  });

  it('refuses an owner outside the ACL, whatever the quota and capacity', () => {
    assert.deepEqual(decideAdmission(facts({ allowed: false })), {
      admitted: 0,
      condition: 'not-in-acl',
      reason: 'ann@x may not use cloud c1 (not in its ACL)',
    });
  });

  it('stops at the quota', () => {
    const d = decideAdmission(
      facts({ quota: { fits: 1, limit: 'user ann@x may use 1 instances, uses 0, and 3 more were asked for' } }),
    );
    assert.deepEqual(d, {
      admitted: 1,
      condition: 'quota-exceeded',
      reason: 'quota exceeded: user ann@x may use 1 instances, uses 0, and 3 more were asked for',
    });
  });

  it('stops at the free capacity less what is waiting to be created, in every dimension', () => {
    const byCores = decideAdmission(
      facts({ capacity: { cores: 7 }, waiting: { instances: 1, cores: 2, memoryMb: 1024 } }),
    );
    assert.deepEqual([byCores.admitted, byCores.condition], [2, 'capacity']);
    assert.equal(byCores.reason, 'cloud c1 has no free capacity for more than 2 more medium instance(s)');
    assert.equal(
      decideAdmission(facts({ capacity: { instances: 2 }, waiting: { ...none, instances: 2 } })).admitted,
      0,
    );
    assert.equal(decideAdmission(facts({ capacity: { memoryMb: 2048 } })).admitted, 2);
    assert.equal(
      decideAdmission(facts({ size: { cores: 0, memoryMb: 0 }, capacity: { cores: 0, memoryMb: 0, instances: 5 } }))
        .admitted,
      3,
      'a dimension the flavor does not use does not limit',
    );
  });

  it('names the quota first when both quota and capacity bind', () => {
    const d = decideAdmission(
      facts({ quota: { fits: 2, limit: 'cloud c1 may use 2 instances' }, capacity: { instances: 1 } }),
    );
    assert.deepEqual([d.admitted, d.condition], [1, 'quota-exceeded']);
    assert.match(
      d.reason!,
      /^quota exceeded: cloud c1 may use 2 instances; cloud c1 has no free capacity for more than 1 more/,
    );
  });
});

describe('admission gate (store, policy, local driver)', () => {
  const tmp = tempDir('decision');
  let driver: CloudDriver | undefined;
  after(async () => {
    await driver?.close();
    tmp.remove();
  });

  it('decides from the configured ACL and quota, the recorded instances and the driver capacity', async () => {
    const config = parseCloudConfig(
      `[xmpp]\njid = cloud@x\nserver = 127.0.0.1:5222\npassword = pw-12345\n
[cloud]\nname = c1\ndriver = local\ndb = ${join(tmp.dir, 'c.db')}\nrequesters = gw@x\nadmins = ann@x cat@x\n
[driver]\nstate_dir = ${join(tmp.dir, 'state')}\nmax_instances = 2\n
[acl]\nusers = ann@x cat@x\n[quota]\ninstances = 3\n[quota.user.cat@x]\ninstances = 1\n
[instances]\nxmpp_domain = vms.x\njwt_key = ${join(tmp.dir, 'key.jwk')}\nserver = 127.0.0.1:5222\n`,
      join(tmp.dir, 'c.ini'),
    );
    const db = openStore(config.db, MIGRATIONS);
    const store = cloudStore(db);
    driver = await openDriver('local', config.driverOptions, { log: silentLogger() });
    const gate = admissionGate({ config, store, policy: makePolicy({ config, store }), driver, log: silentLogger() });
    const ask = { owner: 'ann@x', groups: [], flavor: 'small', size: { cores: 1, memoryMb: 512 } };

    assert.deepEqual(await gate.decide({ ...ask, owner: 'bob@x', count: 1 }), {
      admitted: 0,
      condition: 'not-in-acl',
      reason: 'bob@x may not use cloud c1 (not in its ACL)',
    });
    assert.deepEqual(await gate.decide({ ...ask, count: 3 }), {
      admitted: 2,
      condition: 'capacity',
      reason: 'cloud c1 has no free capacity for more than 2 more small instance(s)',
    });
    const quota = await gate.decide({ ...ask, owner: 'cat@x', count: 2 });
    assert.deepEqual([quota.admitted, quota.condition], [1, 'quota-exceeded']);
    assert.match(quota.reason!, /^quota exceeded: user cat@x may use 1 instances, uses 0, and 2 more were asked for$/);
    assert.deepEqual(await gate.free(), { instances: 2, cores: 64, memoryMb: 65536 });

    // One instance recorded, not yet created: it holds quota (3 - 1 left) and, once
    // subtracted from the driver's free capacity, leaves room for 1.
    store.addRequest(
      {
        request_id: 'r1',
        requester: 'gw@x',
        deployment: 'd',
        service: 's',
        owner: 'ann@x',
        groups: [],
        flavor: 'small',
        image: 'cernvm-4',
        names: ['n1'],
        context: '',
        context_version: 1,
        context_id: null,
        allow: [],
        refused: [],
        condition: null,
        reason: null,
      },
      [{ name: 'n1', flavor: 'small', image: 'cernvm-4', cores: 1, memory_mb: 512 }],
    );
    const after1 = await gate.decide({ ...ask, count: 2 });
    assert.deepEqual([after1.admitted, after1.condition], [1, 'capacity']);
    assert.deepEqual(
      await gate.free(),
      { instances: 1, cores: 63, memoryMb: 65024 },
      'the presence offers what allocation would admit',
    );
    db.close();
  });
});
