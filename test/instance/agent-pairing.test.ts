import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestServer } from '../helpers/ejabberd.js';
import { makeAgent, silent } from '../helpers/agents.js';
import { loadJwtKey, mintToken, type Agent } from '../../core/index.js';
import { PairingCode } from '../../protocols/gateway.js';
import { RenewToken } from '../../protocols/cloud.js';
import { RunScript } from '../../protocols/instance.js';
import { createGatewayModel, openGatewayStore, type GatewayModel } from '../../agents/gateway/model/index.js';
import { pairing, normalizePairingCode, newPairingCode } from '../../agents/gateway/pairing.js';
import { fetchPairedContext, InstanceError } from '../../agents/instance/index.js';
import {
  INSTANCE_HOST,
  startInstance,
  startServer,
  suiteCleanup,
  tempDir,
  testGateway,
  waitFor,
  type TestGateway,
} from './agent-helpers.js';
import { readFileSync } from 'node:fs';

const BODY = '[amiconfig]\nplugins = files\n[files]\n/etc/motd =\n    paired by its owner\n';

test('codes: 80 bits in Crockford base32, grouped; typing slips are forgiven', () => {
  const c = newPairingCode();
  assert.match(c, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  assert.notEqual(newPairingCode(), c);
  assert.equal(normalizePairingCode(` ${c.toLowerCase().replace(/-/g, ' ')} `), c.replace(/-/g, ''));
  assert.equal(normalizePairingCode('O0IL-0000-0000-0000'), '0011000000000000');
  assert.equal(normalizePairingCode('ABCD-EFGH'), undefined);
  assert.equal(normalizePairingCode('UUUU-0000-0000-0000'), undefined, 'U is not in the alphabet');
});

describe('pairing end to end: gateway code → running machine fetches its context → joins → ready', () => {
  let t: TestServer;
  let gw: TestGateway;
  let alice: Agent;
  let model: GatewayModel;
  let p: ReturnType<typeof pairing>;
  let clock = 0;
  const suite = suiteCleanup();
  const post = (body: unknown) =>
    fetch(`${p.url}/pair`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  const codeFor = (ttl_s?: number) =>
    alice.request(PairingCode, gw.agent.jid, { context: 'analysis', version: undefined, ttl_s });

  before(async () => {
    t = await startServer();
    model = createGatewayModel(openGatewayStore(':memory:'));
    model.users.add(`alice@${t.host}`);
    model.contexts.create({ owner: `alice@${t.host}`, name: 'analysis', content: { type: 'plain', body: BODY } });
    const key = await loadJwtKey(t.server.info.hostJwtKeyFiles[INSTANCE_HOST]!);
    gw = await testGateway(t, {
      prepare: (agent) => {
        p = pairing({
          agent,
          model,
          log: silent,
          httpPort: 0,
          domain: INSTANCE_HOST,
          server: `${t.server.info.ip}:${t.server.info.c2sPort}`,
          ca: t.ca,
          mint: (jid) => mintToken(key, jid, 3600),
          maxFailures: 6,
          now: () => Date.now() + clock,
        });
        agent.use(p);
      },
    });
    alice = await makeAgent(t, 'alice');
    await alice.start();
  });
  after(async () => {
    await suite.run();
    await Promise.all([gw?.agent.stop(), alice?.stop()]);
    model?.db.close();
    await t?.stop();
  });

  test('owner gets a code; only its hash is stored', async () => {
    const { code, expires } = await codeFor(120);
    assert.ok(normalizePairingCode(code));
    assert.ok(expires > Date.now() / 1000 + 100 && expires <= Date.now() / 1000 + 121);
    const rows = JSON.stringify(model.db.prepare('SELECT * FROM pairing_codes').all());
    assert.ok(!rows.includes(code) && !rows.includes(normalizePairingCode(code)!), 'no plaintext code in the database');
    await assert.rejects(
      alice.request(PairingCode, gw.agent.jid, { context: 'nope', version: undefined, ttl_s: undefined }),
      (e: any) => e.condition === 'item-not-found',
    );
  });

  let code = '';
  test('a machine with no identity pairs, applies the context, joins and is ready; its owner may command it', async (tc) => {
    code = (await codeFor()).code;
    const root = tempDir(suite);
    // Typed by a person: lower case, blanks instead of dashes.
    const ia = await startInstance(suite, { root, pairCode: code.toLowerCase().replace(/-/g, ' '), gatewayUrl: p.url });
    assert.equal(ia.located.source, 'pairing');
    assert.match(ia.identity.bare, new RegExp(`^pair-[0-9a-f]{12}@${INSTANCE_HOST.replace('.', '\\.')}$`));
    assert.deepEqual([...ia.identity.section.allow].sort(), [`alice@${t.host}`, `gateway@${t.host}`]);
    assert.equal(readFileSync(join(root, 'etc/motd'), 'utf8'), 'paired by its owner\n');
    const presence = await waitFor('ready presence of the paired machine', () =>
      gw.presences.find((x) => x.instance_id === ia.identity.instanceId && x.phase === 'ready'),
    );
    assert.equal(presence.context_version, 1);
    const r = await alice.request(RunScript, ia.agent.jid, { script: 'echo owner was here', timeout_s: undefined });
    assert.equal(r.stdout, 'owner was here\n');
    // It renews its token at the gateway that paired it; nobody else may.
    const renewed = await ia.agent.request(RenewToken, gw.agent.jid, {});
    assert.ok(renewed.token.length > 20 && renewed.expires > Date.now() / 1000);
    await assert.rejects(
      alice.request(RenewToken, gw.agent.jid, {}),
      (e: any) => e.condition === 'forbidden' && e.app === 'not-paired',
    );

    // Restarted, it uses the context it was paired with: the code is spent.
    await ia.stop();
    const again = await startInstance(tc, { root, pairCode: code, gatewayUrl: p.url });
    assert.equal(again.located.source, 'saved');
    assert.equal(again.identity.bare, ia.identity.bare);
    assert.equal(again.life.phase, 'ready');
  });

  test('a used code and an unknown code get the same answer; malformed is 400', async () => {
    const used = await post({ code });
    const unknown = await post({ code: newPairingCode() });
    assert.equal(used.status, 404);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await used.json(), await unknown.json());
    assert.equal((await post({ code: 'short' })).status, 400);
    assert.equal((await post({ nothing: 1 })).status, 400);
    await assert.rejects(
      fetchPairedContext(p.url, code, 2000),
      (e: unknown) =>
        e instanceof InstanceError &&
        e.code === 'CG_INSTANCE_PAIRING' &&
        /HTTP 404: unknown or already used/.test(e.message),
    );
  });

  test('an expired code says so (410)', async () => {
    const { code: late } = await codeFor(30);
    clock = 31_000;
    try {
      const r = await post({ code: late });
      assert.equal(r.status, 410);
      assert.match(((await r.json()) as { message: string }).message, /expired/);
    } finally {
      clock = 0;
    }
  });

  test('too many failed attempts from one address: 429 with Retry-After, even for a good code', async () => {
    const good = (await codeFor(3600)).code;
    // 5 failures so far in this suite (used, unknown, 2 malformed, fetchPairedContext) plus the expired one.
    const r = await post({ code: newPairingCode() });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.equal((await post({ code: good })).status, 429);
    clock = 11 * 60_000; // the window passes
    try {
      const ok = await post({ code: good });
      assert.equal(ok.status, 200);
      const body = (await ok.json()) as { context: string; jid: string };
      assert.match(body.context, /\[cloudgate\]/);
      assert.match(body.context, /paired by its owner/);
    } finally {
      clock = 0;
    }
  });
});
