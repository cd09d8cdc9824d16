/**
 * The login token in user-data (readable by any process of an EC2 guest through the
 * metadata service) lives only [instances] bootstrap_token_ttl, not the renewal lifetime:
 * a cloud agent on the ec2 driver (moto) launches an instance, the token is read back from
 * the instance's user-data, and once its life is over the real ejabberd refuses it. A real
 * instance agent (local driver) replaces it with a renewed one from its cloud agent.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeImagesCommand, DescribeInstanceAttributeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { decodeJwt, importJWK, jwtVerify, type JWK } from 'jose';
import type { TestServer } from '../helpers/ejabberd.js';
import { silent } from '../helpers/agents.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { until } from '../helpers/wait.js';
import { Agent, loadJwtKey, mintToken } from '../../core/index.js';
import type { CloudAgent } from '../../agents/cloud/index.js';
import { Gateway, INSTANCE_DOMAIN, startCloud, startServer, tempDir, tokenOf, writeConfig } from './helpers.js';

const BOOTSTRAP_S = 20;

describe('bootstrap token in user-data', () => {
  let t: TestServer;
  let gw: Gateway;
  let moto: Moto;
  let ca: CloudAgent;
  const tmp = tempDir('boot');

  const ec2 = () =>
    new EC2Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });

  before(async () => {
    t = await startServer();
    moto = await startMoto();
    const sdk = ec2();
    const ami =
      (await sdk.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? assert.fail('moto lists no AMI');
    sdk.destroy();
    const file = writeConfig(t, tmp.dir, {
      driver: 'ec2',
      driverOptions: {
        region: 'us-east-1',
        endpoint: moto.endpoint,
        access_key_id: 'testing',
        secret_access_key: 'testing',
        'image.cernvm-4': ami,
        max_attempts: '2',
      },
      extra: '[flavor.medium]\nid = medium\n[image.cernvm-4]\nid = cernvm-4\n',
      instancesExtra: `bootstrap_token_ttl = ${BOOTSTRAP_S}s\n`,
    });
    ({ ca } = await startCloud(file));
    gw = await Gateway.start(t);
  });
  after(async () => {
    await gw?.agent.stop();
    if (ca) {
      for (const i of await ca.driver.describe()) await ca.driver.terminate(i.id).catch(() => {});
      await ca.stop();
    }
    await moto?.stop();
    await t?.stop();
    tmp.remove();
  });

  /** Logs in as `user` on the instances' host with `token`; resolves to the refusal's text, or 'ok'. */
  async function login(user: string, token: string): Promise<string> {
    const a = new Agent({
      kind: 'instance',
      log: silent,
      xmpp: {
        service: t.service,
        domain: INSTANCE_DOMAIN,
        username: user,
        password: token,
        isToken: true,
        ca: t.ca,
        resource: 'boot',
        maxStartAttempts: 1,
      },
    });
    try {
      await a.start();
      return 'ok';
    } catch (err) {
      return String((err as Error).message);
    } finally {
      await a.stop().catch(() => {});
    }
  }

  it('is minted for bootstrap_token_ttl and refused by ejabberd once that is over', async () => {
    const rid = await gw.allocate(ca.agent.bare, { names: ['boot-1'], deployment: 'dep-boot' });
    assert.deepEqual((await gw.result(rid)).accepted, ['boot-1']);
    const [inst] = await until('the instance in the cloud', async () =>
      (await ca.driver.describe()).filter((i) => i.name === 'boot-1'),
    );
    const sdk = ec2();
    let userData: string;
    try {
      const out = await sdk.send(new DescribeInstanceAttributeCommand({ InstanceId: inst!.id, Attribute: 'userData' }));
      userData = Buffer.from(out.UserData?.Value ?? '', 'base64').toString('utf8');
    } finally {
      sdk.destroy();
    }
    const token = tokenOf(userData) ?? assert.fail('no token in user-data');
    const claims = decodeJwt(token);
    assert.equal(claims.jid, `boot-1@${INSTANCE_DOMAIN}`);
    assert.equal(
      Number(claims.exp) - Number(claims.iat),
      BOOTSTRAP_S,
      'the user-data token lives bootstrap_token_ttl, not token_ttl (10m here)',
    );
    assert.match(userData, new RegExp(`^token_expires = ${claims.exp}$`, 'm'));

    // Properly signed for that JID: valid while it lived (checked at its issue time) ...
    const jwk = JSON.parse(readFileSync(t.server.info.hostJwtKeyFiles[INSTANCE_DOMAIN]!, 'utf8')) as JWK;
    await jwtVerify(token, await importJWK(jwk, 'HS256'), { currentDate: new Date(Number(claims.iat) * 1000) });
    // ... and the server takes that JID with a live token from the same key.
    const fresh = await mintToken(
      await loadJwtKey(t.server.info.hostJwtKeyFiles[INSTANCE_DOMAIN]!),
      `boot-1@${INSTANCE_DOMAIN}`,
      600,
    );
    assert.equal(await login('boot-1', fresh.token), 'ok');

    await until(
      'the bootstrap token to expire',
      () => Date.now() > (Number(claims.exp) + 1) * 1000,
      (BOOTSTRAP_S + 30) * 1000,
      250,
    );
    assert.match(await login('boot-1', token), /not-authorized/);
  });

  it('is replaced by the instance agent with a renewed token from its cloud agent', async () => {
    // A real instance agent (the local driver's default command), whose bootstrap token is
    // short: it must ask the cloud agent named in its user-data for one of token_ttl.
    const dir = join(tmp.dir, 'local');
    mkdirSync(dir);
    const file = writeConfig(t, dir, {
      name: 'cloud-l',
      driver: 'local',
      driverOptions: { state_dir: join(dir, 'state'), kill_grace_ms: '1000' },
      instancesExtra: `bootstrap_token_ttl = ${BOOTSTRAP_S}s\n`,
    });
    const local = await startCloud(file);
    try {
      const rid = await gw.allocate(local.ca.agent.bare, { names: ['renew-1'], deployment: 'dep-renew' });
      assert.deepEqual((await gw.result(rid)).accepted, ['renew-1']);
      const [inst] = await until('the instance', async () =>
        (await local.ca.driver.describe()).filter((i) => i.name === 'renew-1'),
      );
      const ud = readFileSync(join(String(inst!.extra.dir), 'user-data'), 'utf8');
      assert.match(ud, new RegExp(`^cloud = ${local.ca.agent.bare}$`, 'm'));
      const saved = join(String(inst!.extra.dir), 'root', 'var', 'lib', 'cloudgate', 'token.json');
      const renewed = await until(
        'the renewed token saved by the instance agent',
        () => existsSync(saved) && (JSON.parse(readFileSync(saved, 'utf8')) as { jid: string; token: string }),
        60_000,
        200,
      );
      assert.equal(renewed.jid, `renew-1@${INSTANCE_DOMAIN}`);
      const claims = decodeJwt(renewed.token);
      assert.equal(Number(claims.exp) - Number(claims.iat), 600, 'the renewal lives token_ttl');
      assert.equal(
        await login('renew-1-probe', renewed.token).then((r) => (r !== 'ok' ? 'refused' : 'ok')),
        'refused',
        'a token names one JID',
      );
    } finally {
      for (const i of await local.ca.driver.describe()) await local.ca.driver.terminate(i.id).catch(() => {});
      await local.ca.stop();
    }
  });
});
