/**
 * A cloud agent on each driver (local, libvirt test:///default, ec2 on moto) against a
 * real ejabberd: an allocation creates the instances, their state changes reach the
 * requester (reliable messages) and the cloud's PubSub node, terminate removes them; and
 * no configured secret shows up in any log line, any stanza the requester received, or
 * the agent's database.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeImagesCommand, DescribeInstanceAttributeCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { TestServer } from '../helpers/ejabberd.js';
import { guestCommand } from '../helpers/guest.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { cloud } from '../../protocols/index.js';
import { parseContext } from '../../agents/instance/context/index.js';
import type { Instance } from '../../drivers/index.js';
import {
  dbBytes,
  eventually,
  Gateway,
  INSTANCE_DOMAIN,
  jwkSecret,
  startCloud,
  startServer,
  tempDir,
  tokenOf,
  writeConfig,
} from './helpers.js';

// Unique, so finding one anywhere can only mean it leaked from the configuration.
const SECRET = `cgSecret${randomBytes(12).toString('hex')}`;
const KEY_ID = `AKIDcg${randomBytes(6).toString('hex').toUpperCase()}`;

describe('cloud agent on every driver', () => {
  let t: TestServer;
  let gw: Gateway;
  let moto: Moto;
  let ami = '';
  const tmp = tempDir('life');

  before(async () => {
    t = await startServer();
    moto = await startMoto();
    const sdk = ec2();
    ami = (await sdk.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? assert.fail('moto lists no AMI');
    sdk.destroy();
    gw = await Gateway.start(t);
  });
  after(async () => {
    await gw?.agent.stop();
    await moto?.stop();
    await t?.stop();
    tmp.remove();
  });

  function ec2(): EC2Client {
    return new EC2Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
  }

  const cases: Array<{
    driver: 'local' | 'libvirt' | 'ec2';
    options: (dir: string) => Record<string, string>;
    extra: string;
    userData: (dir: string, i: Instance) => Promise<string>;
  }> = [
    {
      driver: 'local',
      options: (dir) => ({ state_dir: join(dir, 'state'), command: guestCommand(dir), kill_grace_ms: '1000' }),
      extra: '[flavor.medium]\nid = medium\n[image.cernvm-4]\nid = local\n',
      userData: async (_dir, i) => readFileSync(join(String(i.extra.dir), 'user-data'), 'utf8'),
    },
    {
      driver: 'libvirt',
      options: (dir) => ({
        uri: 'test:///default',
        config_drive_dir: join(dir, 'drives'),
        'image.cernvm-4': '/var/lib/libvirt/images/cernvm4.qcow2',
      }),
      // The test hypervisor has little memory: the generic "medium" is its "small" here.
      extra: '[flavor.medium]\nid = small\n[image.cernvm-4]\nid = cernvm-4\n',
      userData: async (dir, i) => readFileSync(join(dir, 'drives', i.name, 'user-data'), 'utf8'),
    },
    {
      driver: 'ec2',
      options: () => ({
        region: 'us-east-1',
        endpoint: moto.endpoint,
        access_key_id: KEY_ID,
        secret_access_key: SECRET,
        'image.cernvm-4': ami,
        max_attempts: '2',
      }),
      extra: '[flavor.medium]\nid = medium\n[image.cernvm-4]\nid = cernvm-4\n',
      userData: async (_dir, i) => {
        const sdk = ec2();
        try {
          const out = await sdk.send(new DescribeInstanceAttributeCommand({ InstanceId: i.id, Attribute: 'userData' }));
          return Buffer.from(out.UserData?.Value ?? '', 'base64').toString('utf8');
        } finally {
          sdk.destroy();
        }
      },
    },
  ];

  for (const c of cases) {
    it(`${c.driver}: allocate, watch, terminate — and no secret anywhere`, async () => {
      const dir = join(tmp.dir, c.driver);
      const name = `cloud-${c.driver}`;
      mkdirSync(dir, { recursive: true });
      const file = writeConfig(t, dir, { name, driver: c.driver, driverOptions: c.options(dir), extra: c.extra });
      const { ca, lines } = await startCloud(file);
      const cloudJid = ca.agent.bare;
      const events: Array<{ name: string; state: string }> = [];
      try {
        // The requester sees the cloud's presence with its free capacity and offer.
        const peer = await gw.until('the cloud presence', () =>
          gw.agent.peers('cloud').find((p) => p.bare === cloudJid && p.data),
        );
        const data = peer.data as ReturnType<typeof cloud.CloudPresence.payload.decode>;
        assert.equal(data.name, name);
        assert.deepEqual(data.flavors, ['medium']);
        assert.equal(data.instances, 0);

        gw.agent.onEvent(cloud.InstanceStateEvent, (e, meta) => {
          if (meta.node === `clouds/${name}`) events.push({ name: e.name, state: e.state });
        });
        await gw.agent.pubsub.subscribe(`clouds/${name}`);

        const names = [`${c.driver}-w1`, `${c.driver}-w2`];
        const rid = await gw.allocate(cloudJid, { names, deployment: `dep-${c.driver}` });
        const res = await gw.result(rid);
        assert.deepEqual(res.accepted.sort(), names);
        assert.deepEqual(res.refused, []);
        await gw.stateIs(names, 'running');

        const live = (await ca.driver.describe()).filter((i) => i.state !== 'terminated');
        assert.deepEqual(live.map((i) => i.name).sort(), names);
        const tokens: string[] = [];
        for (const i of live) {
          const ud = await c.userData(dir, i);
          const ctx = parseContext(ud);
          assert.equal(ctx.cloudgate?.jid, `${i.name}@${INSTANCE_DOMAIN}`);
          assert.equal(ctx.cloudgate?.deployment, `dep-${c.driver}`);
          assert.equal(ctx.cloudgate?.instanceId, i.name);
          assert.equal(ctx.cloudgate?.gateway, gw.agent.bare);
          assert.deepEqual([...ctx.cloudgate!.allow].sort(), [`alice@${t.host}`, gw.agent.bare].sort());
          assert.match(ctx.cloudgate?.ca ?? '', /BEGIN CERTIFICATE/);
          assert.equal(ctx.sections.get('environment')?.get('GREETING'), 'hello', "the user's context is kept");
          tokens.push(tokenOf(ud) ?? assert.fail('no token in user-data'));
        }

        const listed = await gw.agent.request(cloud.ListInstances, ca.agent.jid, {
          deployment: `dep-${c.driver}`,
          owner: undefined,
        });
        assert.deepEqual(
          listed.instances.map((i) => `${i.name}:${i.state}`).sort(),
          names.map((n) => `${n}:running`),
        );
        await gw.until(
          'the presence to count 2 instances',
          () =>
            (gw.agent.peers('cloud').find((p) => p.bare === cloudJid)?.data as { instances: number })?.instances ===
              2 || undefined,
        );

        await gw.agent.sendReliable(cloud.Terminate, cloudJid, {
          request_id: `term-${c.driver}`,
          deployment: `dep-${c.driver}`,
          owner: `alice@${t.host}`,
          names: [],
        });
        await gw.stateIs(names, 'terminated');
        const after = (await ca.driver.describe()).filter((i) => i.state !== 'terminated');
        assert.deepEqual(after, [], 'the cloud has no live instance left');
        await eventually('the PubSub events', () =>
          names.every((n) => events.some((e) => e.name === n && e.state === 'terminated')) ? true : undefined,
        );
        assert.ok(
          names.every((n) => events.some((e) => e.name === n && e.state === 'running')),
          'running was published too',
        );

        // Secrets: none in what the requester received, in any log line, or in the database.
        const secrets = [
          jwkSecret(t.server.info.jwtKeyFile),
          jwkSecret(t.server.info.hostJwtKeyFiles[INSTANCE_DOMAIN]!),
          ...tokens,
        ];
        if (c.driver === 'ec2') secrets.push(SECRET, KEY_ID);
        const stanzas = gw.stanzas.join('\n');
        const logs = lines.join('');
        const db = dbBytes(ca.config.db);
        assert.ok(
          stanzas.includes(names[0]!) && logs.includes(names[0]!) && db.includes(names[0]!),
          'the haystacks hold the run',
        );
        for (const s of secrets) {
          assert.ok(!stanzas.includes(s), 'a secret reached the requester');
          assert.ok(!logs.includes(s), 'a secret reached the log');
          assert.ok(!db.includes(s), 'a secret reached the database');
        }
        if (existsSync(t.server.logFile))
          assert.ok(
            !secrets.some((s) => readFileSync(t.server.logFile, 'utf8').includes(s)),
            'a secret reached the server log',
          );
      } finally {
        if (process.env.CG_DEBUG) console.error(lines.filter((l) => /"level":(40|50)/.test(l)).join(''));
        for (const i of await ca.driver.describe().catch(() => [])) await ca.driver.terminate(i.id).catch(() => {});
        await ca.stop();
      }
    });
  }
});
