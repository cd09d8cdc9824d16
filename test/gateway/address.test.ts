/**
 * Where a program sends a request: the gateway and each cloud agent started from a
 * configuration that names no resource are at `<account>/gateway` and `<account>/cloud`
 * (README, "Addresses"). A plain XMPP client of its own (raw socket, STARTTLS, SASL
 * PLAIN: nothing of core/) sends typed requests there and gets the typed answers; the
 * same request to the gateway's bare JID is the server's to answer, with service-unavailable.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as runGateway } from '../../agents/gateway/index.js';
import { createCloudAgent, loadCloudConfig } from '../../agents/cloud/index.js';
import { cloud, gateway } from '../../protocols/index.js';
import { silent, tokenFor } from '../helpers/agents.js';
import { rawLogin } from '../helpers/raw-xmpp.js';
import { instancesSection, startServer } from '../cloud/helpers.js';

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

test('a plain XMPP client reaches the gateway and a cloud agent at their documented addresses', {
  timeout: 120_000,
}, async () => {
  const t = await startServer();
  after(() => t.stop());
  const dir = mkdtempSync(join(tmpdir(), 'cgt-address-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const xmpp = (user: string) => `[xmpp]
jid = ${user}@${t.host}
server = ${t.server.info.ip}:${t.server.info.c2sPort}
jwt_key = ${t.server.info.jwtKeyFile}
ca = ${t.server.info.certFile}
`;
  writeFileSync(
    join(dir, 'cloud.ini'),
    `${xmpp('cloud-a')}
[cloud]
name = cloud-a
driver = local
db = ${join(dir, 'cloud.sqlite')}
requesters = gateway@${t.host}, script@${t.host}
admins = script@${t.host}

[driver]
state_dir = ${join(dir, 'state')}
images = test-image

[flavor.small]
id = small
[image.test-image]
id = test-image

[acl]
users = script@${t.host}

${instancesSection(t, '1s')}`,
  );
  writeFileSync(
    join(dir, 'gateway.ini'),
    `${xmpp('gateway')}
[log]
level = silent

[gateway]
db = ${join(dir, 'gateway.sqlite')}
clouds = cloud-a@${t.host}
`,
  );
  const ca = await createCloudAgent(loadCloudConfig(join(dir, 'cloud.ini')), { log: silent });
  await ca.start();
  after(() => ca.stop());
  const gw = await runGateway(join(dir, 'gateway.ini'));
  after(() => gw.stop());

  const client = await rawLogin({
    host: t.server.info.ip,
    port: t.server.info.c2sPort,
    domain: t.host,
    ca: t.ca,
    user: 'script',
    password: await tokenFor(t, 'script'),
    resource: 'py',
  });
  after(() => client.close());
  assert.equal(client.jid, `script@${t.host}/py`);
  assert.equal(gateway.GATEWAY_RESOURCE, 'gateway');
  assert.equal(cloud.CLOUD_RESOURCE, 'cloud');

  const who = await client.iq(
    `<iq type='get' to='gateway@${t.host}/gateway'><whoami xmlns='urn:cloudgate:gateway:1'/></iq>`,
  );
  assert.equal(who.attrs.type, 'result', who.toString());
  const me = who.getChild('whoami-result', 'urn:cloudgate:gateway:1');
  assert.ok(me, who.toString());
  assert.equal(me.attrs.jid, `script@${t.host}`);
  assert.equal(me.attrs.admin, 'false');

  const info = await client.iq(
    `<iq type='get' to='cloud-a@${t.host}/cloud'><info xmlns='urn:cloudgate:cloud:1'/></iq>`,
  );
  assert.equal(info.attrs.type, 'result', info.toString());
  const res = info.getChild('info-result', 'urn:cloudgate:cloud:1');
  assert.ok(res, info.toString());
  assert.deepEqual([res.attrs.name, res.attrs.driver], ['cloud-a', 'local']);
  assert.deepEqual(
    res
      .getChild('images')!
      .getChildElements()
      .map((i) => i.getText()),
    ['test-image'],
  );

  // A typed error arrives as such too: a bad field is named.
  const bad = await client.iq(
    `<iq type='set' to='gateway@${t.host}/gateway'><deploy xmlns='urn:cloudgate:gateway:1'/></iq>`,
  );
  assert.equal(bad.attrs.type, 'error', bad.toString());
  const err = bad.getChild('error')!;
  assert.ok(err.getChild('bad-request', NS_STANZAS), bad.toString());
  assert.ok(err.getChild('invalid-field', 'urn:cloudgate:error:1'), bad.toString());
  assert.match(err.getChildText('text', NS_STANZAS) ?? '', /deploy\/@cluster: missing/);

  // The bare JID is the account's: the server answers, not the gateway.
  const bare = await client.iq(`<iq type='get' to='gateway@${t.host}'><whoami xmlns='urn:cloudgate:gateway:1'/></iq>`);
  assert.equal(bare.attrs.type, 'error', bare.toString());
  assert.ok(bare.getChild('error')!.getChild('service-unavailable', NS_STANZAS), bare.toString());
});
