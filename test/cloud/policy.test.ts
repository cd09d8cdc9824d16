/**
 * ACL, quota, mapping and the request side of the protocol, on the local driver against a
 * real ejabberd. A driver wrapper counts create() calls, so "refused before the cloud is
 * called" is checked, not assumed.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Element } from 'ltx';
import type { TestServer } from '../helpers/ejabberd.js';
import { guestCommand } from '../helpers/guest.js';
import { silent } from '../helpers/agents.js';
import { Agent } from '../../core/index.js';
import { cloud, StanzaError } from '../../protocols/index.js';
import { CloudError, type CloudDriver } from '../../drivers/index.js';
import type { CloudAgent } from '../../agents/cloud/index.js';
import { Gateway, INSTANCE_DOMAIN, startCloud, startServer, tempDir, tokenOf, writeConfig } from './helpers.js';

describe('cloud agent policy (local driver)', () => {
  let t: TestServer;
  let gw: Gateway;
  let ca: CloudAgent;
  let to = '';
  let creates = 0;
  const tmp = tempDir('policy');
  const alice = () => `alice@${t.host}`;
  const carol = () => `carol@${t.host}`;

  before(async () => {
    t = await startServer();
    // An ACL with groups and several users on the local driver needs it shared: instances
    // then run as nobody, who must be able to enter the test directory.
    chmodSync(tmp.dir, 0o711);
    const file = writeConfig(t, tmp.dir, {
      driver: 'local',
      acl: `users = alice@${t.host}\ngroups = physics`,
      driverOptions: {
        state_dir: join(tmp.dir, 'state'),
        command: guestCommand(tmp.dir),
        kill_grace_ms: '1000',
        shared: 'true',
      },
      extra: `[flavor.medium]\nid = medium\n[flavor.small]\nid = small\n[image.cernvm-4]\nid = local\n
[quota]\ninstances = 4\n[quota.user.alice@${t.host}]\ninstances = 2\n[quota.group.physics]\ncores = 100\n`,
    });
    const counting = (d: CloudDriver): CloudDriver =>
      Object.assign(Object.create(d) as CloudDriver, {
        create: async (req: Parameters<CloudDriver['create']>[0]) => {
          creates++;
          if (req.name.startsWith('full-')) throw new CloudError('capacity', `no room left for ${req.name}`);
          return d.create(req);
        },
      });
    ({ ca } = await startCloud(file, { wrapDriver: counting }));
    to = ca.agent.bare;
    gw = await Gateway.start(t);
  });
  after(async () => {
    await gw?.agent.stop();
    if (ca) {
      for (const i of await ca.driver.describe()) await ca.driver.terminate(i.id);
      await ca.stop();
    }
    await t?.stop();
    tmp.remove();
  });

  it('refuses an owner outside the ACL, without calling the cloud', async () => {
    const rid = await gw.allocate(to, { owner: `bob@${t.host}`, names: ['b1', 'b2'], deployment: 'dep-bob' });
    const r = await gw.result(rid);
    assert.deepEqual(r.accepted, []);
    assert.deepEqual(r.refused.sort(), ['b1', 'b2']);
    assert.equal(r.condition, 'not-in-acl');
    assert.match(r.reason ?? '', new RegExp(`bob@${t.host} may not use cloud cloud-a \\(not in its ACL\\)`));
    assert.equal(creates, 0);
  });

  it('admits a member of an allowed group', async () => {
    const r = await gw.result(
      await gw.allocate(to, { owner: carol(), groups: ['physics'], names: ['c1'], deployment: 'dep-carol' }),
    );
    assert.deepEqual(r.accepted, ['c1']);
    await gw.stateIs(['c1'], 'running');
    assert.equal(creates, 1);
  });

  it('refuses what is beyond the user quota before calling the cloud', async () => {
    const r = await gw.result(await gw.allocate(to, { names: ['a1', 'a2', 'a3'], deployment: 'dep-alice' }));
    assert.deepEqual(r.accepted, ['a1', 'a2']);
    assert.deepEqual(r.refused, ['a3']);
    assert.equal(r.condition, 'quota-exceeded');
    assert.match(
      r.reason ?? '',
      new RegExp(`user alice@${t.host} may use 2 instances, uses 0, and 3 more were asked for`),
    );
    await gw.stateIs(['a1', 'a2'], 'running');
    assert.equal(creates, 3);

    const again = await gw.result(await gw.allocate(to, { names: ['a4'], deployment: 'dep-alice' }));
    assert.deepEqual(again.refused, ['a4']);
    assert.equal(again.condition, 'quota-exceeded');
    assert.equal(creates, 3, 'the cloud was not called');
  });

  it('refuses what is beyond the cloud total, counting every owner', async () => {
    const r = await gw.result(
      await gw.allocate(to, { owner: carol(), groups: ['physics'], names: ['c2', 'c3'], deployment: 'dep-carol' }),
    );
    assert.deepEqual(r.accepted, ['c2']);
    assert.deepEqual(r.refused, ['c3']);
    assert.match(r.reason ?? '', /cloud cloud-a may use 4 instances, uses 3, and 2 more were asked for/);
    await gw.stateIs(['c2'], 'running');
    assert.equal(creates, 4);
  });

  it('answers discovery from ACL, mapping and quota', async () => {
    const full = await gw.agent.request(cloud.Discover, ca.agent.jid, {
      owner: carol(),
      groups: ['physics'],
      flavor: 'medium',
      image: 'cernvm-4',
      count: 1,
    });
    assert.equal(full.accept, false);
    assert.equal(full.max, 0);
    assert.match(full.reason ?? '', /quota/);
    const unknown = await gw.agent.request(cloud.Discover, ca.agent.jid, {
      owner: alice(),
      groups: undefined,
      flavor: 'huge',
      image: 'cernvm-4',
      count: 1,
    });
    assert.deepEqual([unknown.accept, unknown.max], [false, 0]);
    assert.match(unknown.reason ?? '', /unknown flavor 'huge' \(cloud cloud-a offers: medium, small\)/);
    const acl = await gw.agent.request(cloud.Discover, ca.agent.jid, {
      owner: `bob@${t.host}`,
      groups: undefined,
      flavor: 'medium',
      image: 'cernvm-4',
      count: 1,
    });
    assert.match(acl.reason ?? '', /not in its ACL/);
    const info = await gw.agent.request(cloud.CloudInfo, ca.agent.jid, {});
    assert.deepEqual([info.quota.instances, info.usage.instances], ['4', '4']);
    assert.deepEqual(
      info.flavors.map((f) => f.name),
      ['medium', 'small'],
    );
  });

  it('refuses unknown generic names and a context that brings its own [cloudgate]', async () => {
    const img = await gw.result(await gw.allocate(to, { image: 'windows-95', names: ['x1'], deployment: 'dep-x' }));
    assert.equal(img.condition, 'invalid-field');
    assert.match(img.reason ?? '', /unknown image 'windows-95'/);
    const own = await gw.result(
      await gw.allocate(to, { context: '[cloudgate]\njid = evil@x\n', names: ['x2'], deployment: 'dep-x' }),
    );
    assert.equal(own.condition, 'invalid-field');
    assert.match(own.reason ?? '', /\[cloudgate\] section/);
    assert.equal(creates, 4);
  });

  it('is idempotent: a repeated request id or an owned name creates nothing new', async () => {
    const rid = 'fixed-request';
    const first = await gw.result(
      await gw.allocate(to, { request_id: rid, names: ['a1', 'a2'], deployment: 'dep-alice' }),
    );
    assert.deepEqual(first.accepted, ['a1', 'a2'], 'names owned by the same deployment are accepted again');
    await gw.allocate(to, { request_id: rid, names: ['a1', 'a2'], deployment: 'dep-alice' });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(gw.results.filter((r) => r.request_id === rid).length, 1, 'one result per request id');
    const stolen = await gw.result(
      await gw.allocate(to, { owner: carol(), groups: ['physics'], names: ['a1'], deployment: 'dep-other' }),
    );
    assert.equal(stolen.condition, 'name-taken');
    assert.equal(creates, 4);
  });

  it('renews the login token of its own instances only', async () => {
    const inst = (await ca.driver.describe()).find((i) => i.name === 'a1')!;
    const token = tokenOf(readFileSync(join(String(inst.extra.dir), 'user-data'), 'utf8'))!;
    // The instance logs in with the token minted into its user-data (the instance host's key).
    const vm = new Agent({
      kind: 'instance',
      log: silent,
      xmpp: {
        service: t.service,
        domain: INSTANCE_DOMAIN,
        username: 'a1',
        password: token,
        isToken: true,
        ca: t.ca,
        maxStartAttempts: 2,
      },
    });
    await vm.start();
    try {
      const fresh = await vm.request(cloud.RenewToken, ca.agent.jid, {});
      assert.ok(fresh.expires > Date.now() / 1000);
      const claims = JSON.parse(Buffer.from(fresh.token.split('.')[1]!, 'base64url').toString()) as { jid: string };
      assert.equal(claims.jid, `a1@${INSTANCE_DOMAIN}`);
    } finally {
      await vm.stop();
    }
    await assert.rejects(
      gw.agent.request(cloud.RenewToken, ca.agent.jid, {}),
      (e: unknown) => e instanceof StanzaError && e.condition === 'forbidden',
    );
  });

  it('ignores senders it does not trust and owners that are not theirs', async () => {
    const mallory = await Gateway.start(t, 'mallory');
    try {
      await mallory.allocate(to, { names: ['m1'], deployment: 'dep-m' });
      const err = await mallory.until('an error', () => mallory.errors.at(-1));
      assert.match(err, /unauthorized-sender/);
      await assert.rejects(
        mallory.agent.request(cloud.ListInstances, ca.agent.jid, { deployment: undefined, owner: undefined }),
        (e: unknown) => e instanceof StanzaError && e.condition === 'not-authorized',
      );
    } finally {
      await mallory.agent.stop();
    }
    const errors = gw.errors.length;
    await gw.agent.sendReliable(cloud.Terminate, to, {
      request_id: 'steal',
      deployment: 'dep-alice',
      owner: carol(),
      names: [],
    });
    const err = await gw.until('the refusal', () => gw.errors.length > errors && gw.errors.at(-1));
    assert.match(err, /belongs to another owner/);
    assert.equal(creates, 4);
  });

  it('answers chat commands for its operators', async () => {
    const ops = await Gateway.start(t, 'ops');
    try {
      let reply: string | undefined;
      ops.agent.conn.on('stanza', (el: Element) => {
        if (el.is('message') && el.attrs.type === 'chat') reply = el.getChildText('body') ?? '';
      });
      // As a person's client sends it: agent.sendChat marks its messages as replies, which agents ignore.
      await ops.agent.conn.send(
        new Element('message', { to: ca.agent.jid, type: 'chat' }).c('body').t('status').root(),
      );
      assert.match(
        await ops.until('the chat reply', () => reply),
        /cloud cloud-a \(local\): 4 instance\(s\); free: 0 instance/,
      );
    } finally {
      await ops.agent.stop();
    }
  });

  it('terminating releases the quota', async () => {
    await gw.agent.sendReliable(cloud.Terminate, to, {
      request_id: 't-alice',
      deployment: 'dep-alice',
      owner: alice(),
      names: [],
    });
    await gw.agent.sendReliable(cloud.Terminate, to, {
      request_id: 't-carol',
      deployment: 'dep-carol',
      owner: carol(),
      names: ['c1'],
    });
    await gw.stateIs(['a1', 'a2', 'c1'], 'terminated');
    assert.equal(gw.lastState('c2'), 'running', 'only the named instance went');
    await gw.until(
      'the presence to show the freed quota',
      () =>
        (gw.agent.peers('cloud').find((p) => p.bare === to)?.data as { free_instances: number })?.free_instances ===
          3 || undefined,
    );
    const r = await gw.result(await gw.allocate(to, { names: ['a5'], deployment: 'dep-alice' }));
    assert.deepEqual(r.accepted, ['a5']);
  });

  it('maps a refusal of the cloud itself to the result and an error state', async () => {
    const before = creates;
    const r = await gw.result(await gw.allocate(to, { names: ['full-1'], deployment: 'dep-alice' }));
    assert.deepEqual([r.accepted, r.refused, r.condition], [[], ['full-1'], 'capacity']);
    assert.match(r.reason ?? '', /the cloud refused \(capacity\): no room left for full-1/);
    assert.equal(creates, before + 1, 'this one did reach the cloud');
    await gw.stateIs(['full-1'], 'error');
    const info = await gw.agent.request(cloud.CloudInfo, ca.agent.jid, {});
    assert.equal(info.usage.instances, '2', 'a refused instance holds no quota (c2 and a5 remain)');
  });
});
