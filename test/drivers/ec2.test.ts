/** The ec2 driver against a real moto server (a local EC2-compatible API). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CloudError, loadDriver, type CloudDriver } from '../../drivers/index.js';
import { ConfigError } from '../../core/errors.js';
import { capturingLogger, silentLogger } from '../helpers/log.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { driverContract } from './contract.js';

// Unique, so finding it anywhere can only mean it leaked from the configuration.
const SECRET = `cgSecret${randomBytes(12).toString('hex')}`;
const KEY_ID = `AKIDcg${randomBytes(6).toString('hex')}`;

let moto: Moto | undefined;
let ami = '';

before(async () => {
  moto = await startMoto();
  const sdk = client();
  const images = await sdk.send(new DescribeImagesCommand({}));
  ami = images.Images?.[0]?.ImageId ?? assert.fail('moto lists no AMI');
  sdk.destroy();
});
after(async () => {
  await moto?.stop();
});

function client(): EC2Client {
  return new EC2Client({
    region: 'us-east-1',
    endpoint: moto!.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

function options(extra: Record<string, string> = {}): Record<string, string> {
  return {
    region: 'us-east-1',
    endpoint: moto!.endpoint,
    access_key_id: KEY_ID,
    secret_access_key: SECRET,
    'image.cernvm-4': ami,
    request_timeout_ms: '5000',
    max_attempts: '2',
    ...extra,
  };
}

async function make(o: Record<string, string>, log = silentLogger()): Promise<CloudDriver> {
  return (await loadDriver('ec2'))(o, { log });
}

driverContract('ec2 (moto)', () => make(options()), {
  features: ['userdata', 'tags', 'flavors', 'images', 'runs-agent'],
  unknownId: 'i-0123456789abcdef0',
  persistent: true,
  readUserData: async (inst) => {
    const sdk = client();
    try {
      const out = await sdk.send(new DescribeInstanceAttributeCommand({ InstanceId: inst.id, Attribute: 'userData' }));
      return Buffer.from(out.UserData?.Value ?? '', 'base64').toString('utf8');
    } finally {
      sdk.destroy();
    }
  },
});

describe('ec2 driver (moto)', () => {
  let driver: CloudDriver;
  const req = (name: string) => ({
    name,
    flavorId: 'small',
    imageId: 'cernvm-4',
    userData: '[amiconfig]\n',
    tags: { deployment: 'd', service: 's', owner: 'o', extra: 'x' },
  });

  before(async () => {
    driver = await make(options({ page_size: '5', runs_agent: 'false' }));
  });
  after(async () => {
    for (const i of await driver.describe()) await driver.terminate(i.id);
    await driver.close();
  });

  it('validates options and names the key, never echoing secrets', async () => {
    const { region: _r, ...noRegion } = options();
    await assert.rejects(make(noRegion), (e: Error) => e instanceof ConfigError && /"region"/.test(e.message));
    const { secret_access_key: _s, ...loneKey } = options();
    await assert.rejects(make(loneKey), /"secret_access_key"/);
    await assert.rejects(
      make(options({ endpoint: `ftp://${SECRET}@x` })),
      (e: Error) => /"endpoint"/.test(e.message) && !e.message.includes(SECRET),
    );
    await assert.rejects(make(options({ 'image.cernvm-4': 'disk.qcow2' })), /"image\.cernvm-4"/);
    await assert.rejects(make(options({ 'flavor.gpu': 'g9.mega' })), /"flavor\.gpu"/);
    await assert.rejects(make(options({ page_size: '2' })), /"page_size"/);
    const d = await make(options({ 'flavor.gpu': 'g9.mega 8 32768', 'flavor.m': 'm5.large' }));
    assert.deepEqual(
      (await d.listFlavors()).map((f) => [f.id, f.cores, f.memoryMb, f.extra?.instanceType]),
      [
        ['gpu', 8, 32768, 'g9.mega'],
        ['m', 2, 8192, 'm5.large'],
      ],
    );
    assert.ok(!d.features.has('capacity'));
    await d.close();
  });

  it('launches with the mapped AMI and instance type, Name and cloudgate:* tags', async () => {
    const inst = await driver.create(req('ec2-tags'));
    assert.equal(inst.extra.ami, ami);
    assert.equal(inst.extra.instanceType, 't3.small');
    assert.equal(inst.name, 'ec2-tags');
    assert.deepEqual(inst.tags, { deployment: 'd', service: 's', owner: 'o', extra: 'x' });
    assert.ok(!driver.features.has('runs-agent'), 'runs_agent=false is honoured');
  });

  it('asks for IMDSv2 only, with a hop limit of 1, so user-data is not readable by a plain GET', async () => {
    const inst = await driver.create(req('ec2-imds'));
    const sdk = client();
    try {
      const out = await sdk.send(new DescribeInstancesCommand({ InstanceIds: [inst.id] }));
      const mo = out.Reservations?.[0]?.Instances?.[0]?.MetadataOptions;
      assert.deepEqual([mo?.HttpTokens, mo?.HttpPutResponseHopLimit, mo?.HttpEndpoint], ['required', 1, 'enabled']);
    } finally {
      sdk.destroy();
    }
  });

  it('pages through DescribeInstances', async () => {
    // Seven instances with page_size=5 need two pages.
    const names = Array.from({ length: 7 }, (_, k) => `ec2-page-${k}`);
    const made = await Promise.all(names.map((n) => driver.create(req(n))));
    const all = await driver.describe();
    for (const m of made)
      assert.ok(
        all.some((i) => i.id === m.id),
        `${m.name} listed`,
      );
    const some = await driver.describe(made.map((m) => m.id));
    assert.equal(some.length, 7);
  });

  it('maps stopped to stopping and keeps the provider word', async () => {
    const inst = await driver.create(req('ec2-stop'));
    const sdk = client();
    await sdk.send(new StopInstancesCommand({ InstanceIds: [inst.id] }));
    sdk.destroy();
    const [i] = await driver.describe([inst.id]);
    assert.deepEqual([i?.state, i?.providerState], ['stopping', 'stopped']);
  });

  it('ignores instances it does not manage and refuses to terminate them', async () => {
    const sdk = client();
    try {
      const out = await sdk.send(
        new RunInstancesCommand({ ImageId: ami, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }),
      );
      const foreign = out.Instances![0]!.InstanceId!;
      assert.ok(!(await driver.describe()).some((i) => i.id === foreign));
      assert.deepEqual(await driver.describe([foreign]), []);
      await assert.rejects(driver.terminate(foreign), (e: Error) => e instanceof CloudError && e.kind === 'invalid');
      await sdk.send(new TerminateInstancesCommand({ InstanceIds: [foreign] }));
    } finally {
      sdk.destroy();
    }
  });

  it('rejects unknown flavors, images and oversized user-data as invalid', async () => {
    await assert.rejects(
      driver.create({ ...req('x'), flavorId: 'huge' }),
      (e: Error) => e instanceof CloudError && e.kind === 'invalid',
    );
    await assert.rejects(driver.create({ ...req('x'), imageId: 'nope' }), /unknown image/);
    await assert.rejects(driver.create({ ...req('x'), userData: 'x'.repeat(16 * 1024 + 1) }), /16384 bytes/);
    await assert.rejects(driver.create({ ...req('x'.repeat(64)) }), /1-63 characters/);
  });

  it('fails fast with unavailable when the endpoint does not answer', async () => {
    const dead = await make(options({ endpoint: 'http://127.0.0.1:9', max_attempts: '2', request_timeout_ms: '1000' }));
    const t0 = Date.now();
    await assert.rejects(
      dead.describe(),
      (e: Error) => e instanceof CloudError && e.kind === 'unavailable' && /ECONNREFUSED/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 5000);
    await dead.close();
  });
});

describe('ec2 credentials never leak', () => {
  let authMoto: Moto | undefined;
  before(async () => {
    // This moto checks credentials, so ours are refused with a real AuthFailure.
    authMoto = await startMoto({ INITIAL_NO_AUTH_ACTION_COUNT: '0' });
  });
  after(async () => {
    await authMoto?.stop();
  });

  it('keeps secret_access_key and access_key_id out of errors and log lines', async () => {
    const { log, lines } = capturingLogger();
    const errors: unknown[] = [];
    const collect = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        errors.push(e);
      }
    };

    const ok = await make(options(), log);
    const inst = await ok.create({
      name: 'leak-check',
      flavorId: 'small',
      imageId: 'cernvm-4',
      userData: 'x',
      tags: { deployment: 'd', service: 's', owner: 'o' },
    });
    await ok.describe();
    await ok.terminate(inst.id);
    await ok.close();

    const refused = await make(options({ endpoint: authMoto!.endpoint, max_attempts: '1' }), log);
    await collect(refused.describe());
    await collect(
      refused.create({
        name: 'leak-check-2',
        flavorId: 'small',
        imageId: 'cernvm-4',
        userData: 'x',
        tags: { deployment: 'd', service: 's', owner: 'o' },
      }),
    );
    await collect(refused.terminate('i-0123456789abcdef0'));
    await refused.close();

    const dead = await make(options({ endpoint: 'http://127.0.0.1:9', max_attempts: '1' }), log);
    await collect(dead.describe());
    await dead.close();
    await collect(make({ ...options(), session_token: SECRET, access_key_id: '' }, log));

    assert.equal(errors.length, 5);
    assert.equal((errors[0] as CloudError).kind, 'auth', 'moto answered AuthFailure');
    assert.equal((errors[3] as CloudError).kind, 'unavailable');
    assert.ok(lines.length > 0, 'the driver did log');
    const haystacks = [
      ...lines,
      ...errors.flatMap((e) => [
        String(e),
        (e as Error).stack ?? '',
        JSON.stringify(e),
        String((e as Error).cause ?? ''),
      ]),
    ];
    for (const h of haystacks) {
      assert.ok(!h.includes(SECRET), `secret found in: ${h.slice(0, 200)}`);
      assert.ok(!h.includes(KEY_ID), `access key id found in: ${h.slice(0, 200)}`);
    }
  });
});
