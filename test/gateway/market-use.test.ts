/**
 * Using marketplace entries across two users, through a real gateway and a real ejabberd,
 * from each front (typed IQ, chat, HTTP): a cluster entry deploys as the user's copy of it
 * (cloned on first use, reused while unchanged, never over a different cluster of that
 * name); a context entry gives a pairing code for the version it published, which a
 * machine redeems at the pairing endpoint, even when the context itself is private; an
 * encrypted entry is never paired.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../agents/gateway/index.js';
import { loadJwtKey, mintToken, type Agent } from '../../core/index.js';
import { gateway as gw, StanzaError } from '../../protocols/index.js';
import { makeAgent } from '../helpers/agents.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { listenLocal } from '../helpers/net.js';
import { INSTANCE_DOMAIN } from '../cloud/helpers.js';
import { startServer } from './e2e-setup.js';
import { Chatter } from './chatter.js';
import { clusterIni, startGateway } from './harness.js';

const WORKER = '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = worker-v1\n';
const SECRET = '[amiconfig]\nplugins = environment\n\n[environment]\nTOKEN = s3cr3t-value-123\n';
const BOB_PW = 'bob-secret-pw-1';

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listenLocal(s);
  await new Promise((r) => s.close(r));
  return port;
}

const fails = (condition: string, message: RegExp) => (e: unknown) =>
  e instanceof StanzaError && e.condition === condition && message.test(e.message);

describe('deploying and pairing from marketplace entries', { timeout: 180_000 }, () => {
  let t: TestServer;
  let dir: string;
  let g: Gateway;
  let alice: Agent;
  let bob: Agent;
  let b: Chatter;
  let pairUrl = '';
  const ids: Record<string, string> = {};

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-gw-market-use-'));
    await t.register('bob', BOB_PW);
    const key = await loadJwtKey(t.server.info.hostJwtKeyFiles[INSTANCE_DOMAIN]!);
    const port = await freePort();
    pairUrl = `http://127.0.0.1:${port}/pair`;
    g = await startGateway(t, {
      dir,
      clouds: [],
      http: { host: '127.0.0.1', port: 0 },
      pairing: {
        mint: (jid) => mintToken(key, jid, 3600),
        httpPort: port,
        domain: INSTANCE_DOMAIN,
        server: `${t.server.info.ip}:${t.server.info.c2sPort}`,
        ca: t.ca,
      },
    });
    alice = await makeAgent(t, 'alice');
    bob = await makeAgent(t, 'bob');
    await alice.start();
    await bob.start();
    b = new Chatter(bob, () => g.agent.jid);
    const put = (name: string, body: string, passphrase?: string) =>
      alice.request(gw.PutContext, g.agent.jid, { name, body, visibility: undefined, passphrase });
    await put('worker', WORKER);
    await put('vault', SECRET, 'correct horse battery');
    await alice.request(gw.PutCluster, g.agent.jid, { definition: clusterIni({ name: 'pool', initial: 2 }) });
    await alice.request(gw.PutCluster, g.agent.jid, { definition: clusterIni({ name: 'grid', initial: 1 }) });
    await alice.request(gw.PutCluster, g.agent.jid, { definition: clusterIni({ name: 'farm', initial: 1 }) });
    const publish = async (what: { context?: string; cluster?: string }) =>
      (
        await alice.request(gw.Publish, g.agent.jid, {
          context: what.context,
          cluster: what.cluster,
          summary: `shared ${what.context ?? what.cluster}`,
          description: undefined,
          tags: ['demo'],
        })
      ).entry.id;
    ids.worker = await publish({ context: 'worker' });
    ids.vault = await publish({ context: 'vault' });
    ids.pool = await publish({ cluster: 'pool' });
    ids.grid = await publish({ cluster: 'grid' });
    ids.farm = await publish({ cluster: 'farm' });
  });
  after(async () => {
    await bob?.stop().catch(() => {});
    await alice?.stop().catch(() => {});
    await g?.stop().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const redeem = async (code: string) => {
    const r = await fetch(pairUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    return { status: r.status, body: (await r.json()) as { context?: string; version?: number; jid?: string } };
  };

  test('typed IQ: a cluster entry deploys as the caller’s copy, cloned once, never over a different one', async () => {
    const first = await bob.request(gw.DeployEntry, g.agent.jid, {
      id: ids.pool!,
      counts: { worker: 3 },
      passphrase: undefined,
    });
    assert.equal(first.cloned, true);
    assert.deepEqual([first.cluster.name, first.cluster.owner], ['pool', `bob@${t.host}`]);
    assert.deepEqual([first.deployment.cluster, first.deployment.owner], ['pool', `bob@${t.host}`]);
    assert.equal(first.deployment.services.find((s) => s.name === 'worker')?.wanted, 3);
    assert.equal(g.model.clusters.get(`bob@${t.host}`, 'pool')?.ini, clusterIni({ name: 'pool', initial: 2 }));

    const again = await bob.request(gw.DeployEntry, g.agent.jid, {
      id: ids.pool!,
      counts: undefined,
      passphrase: undefined,
    });
    assert.equal(again.cloned, false, 'the copy made the first time is used again');
    assert.notEqual(again.deployment.id, first.deployment.id);
    assert.equal(again.deployment.services.find((s) => s.name === 'worker')?.wanted, 2);

    await bob.request(gw.PutCluster, g.agent.jid, { definition: clusterIni({ name: 'pool', initial: 4 }) });
    await assert.rejects(
      bob.request(gw.DeployEntry, g.agent.jid, { id: ids.pool!, counts: undefined, passphrase: undefined }),
      fails('conflict', /you already have a different cluster 'pool'/),
    );
    assert.equal(g.model.clusters.get(`bob@${t.host}`, 'pool')?.ini, clusterIni({ name: 'pool', initial: 4 }));
    await assert.rejects(
      bob.request(gw.DeployEntry, g.agent.jid, { id: ids.worker!, counts: undefined, passphrase: undefined }),
      fails('bad-request', /is a context: clone it/),
    );
    await assert.rejects(
      bob.request(gw.DeployEntry, g.agent.jid, { id: ids.farm!, counts: { nothing: 1 }, passphrase: undefined }),
      fails('bad-request', /no service 'nothing' in cluster 'farm'/),
    );
    assert.equal(g.model.clusters.get(`bob@${t.host}`, 'farm'), undefined, 'a refused deployment leaves no copy');
    await assert.rejects(
      bob.request(gw.DeployEntry, g.agent.jid, { id: 'm-000000000000', counts: undefined, passphrase: undefined }),
      fails('item-not-found', /market entry 'm-000000000000' not found/),
    );
  });

  test('a published cluster names its contexts by id at their version, so another user deploys it; a private context is refused at publish', async () => {
    const put = (name: string, body: string, visibility?: 'public') =>
      alice.request(gw.PutContext, g.agent.jid, { name, body, visibility, passphrase: undefined });
    await put('shared-wn', WORKER, 'public');
    const cluster = (name: string, context: string) =>
      alice.request(gw.PutCluster, g.agent.jid, { definition: clusterIni({ name, initial: 1, context }) });
    await cluster('withctx', 'shared-wn');
    await cluster('hidden', 'worker');
    const publish = (name: string) =>
      alice.request(gw.Publish, g.agent.jid, {
        context: undefined,
        cluster: name,
        summary: `shared ${name}`,
        description: undefined,
        tags: ['ctx'],
      });
    await assert.rejects(
      publish('hidden'),
      fails('bad-request', /service head uses context 'worker', which only its owner can read/),
    );
    const id = (await publish('withctx')).entry.id;
    // A later version of the publisher's context does not change what the entry deploys.
    await put('shared-wn', `${WORKER}# v2\n`, 'public');
    const ctx = g.model.contexts.resolve('shared-wn', `alice@${t.host}`)!;
    const r = await bob.request(gw.DeployEntry, g.agent.jid, { id, counts: undefined, passphrase: undefined });
    assert.equal(r.deployment.cluster, 'withctx');
    const copy = g.model.clusters.get(`bob@${t.host}`, 'withctx')!;
    assert.deepEqual(
      copy.definition.services.map((s) => s.context),
      [
        { ref: ctx.id, version: 1 },
        { ref: ctx.id, version: 1 },
      ],
    );
  });

  test('typed IQ: a pairing code from a context entry pairs the published version of a private context', async () => {
    const worker = g.model.contexts.byName(`alice@${t.host}`, 'worker')!;
    assert.equal(worker.visibility, 'private');
    await assert.rejects(
      bob.request(gw.PairingCode, g.agent.jid, { context: worker.id, version: undefined, ttl_s: undefined }),
      StanzaError,
      'the context itself is not readable to bob',
    );
    const p = await bob.request(gw.PairEntry, g.agent.jid, { id: ids.worker!, ttl_s: 120 });
    assert.match(p.code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    assert.deepEqual([p.context, p.version], ['worker', 1]);
    assert.ok(p.expires * 1000 > Date.now() && p.expires * 1000 <= Date.now() + 121_000);
    // A newer version does not change what the entry published.
    await alice.request(gw.PutContext, g.agent.jid, {
      name: 'worker',
      body: WORKER.replace('v1', 'v2'),
      visibility: undefined,
      passphrase: undefined,
    });
    const r = await redeem(p.code);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.version, 1);
    assert.match(r.body.context!, /ROLE = worker-v1/);
    assert.match(r.body.jid!, new RegExp(`@${INSTANCE_DOMAIN.replace('.', '\\.')}$`));
    assert.equal((await redeem(p.code)).status, 404, 'single use');

    await assert.rejects(
      bob.request(gw.PairEntry, g.agent.jid, { id: ids.vault!, ttl_s: undefined }),
      fails('bad-request', /is encrypted: the gateway never holds its passphrase/),
    );
    await assert.rejects(
      bob.request(gw.PairEntry, g.agent.jid, { id: ids.pool!, ttl_s: undefined }),
      fails('bad-request', /is a cluster: deploy it/),
    );
  });

  test('chat: deploy-entry and pair-entry', async () => {
    assert.match(
      await b.say(`deploy-entry ${ids.grid} --worker 2`, /^Cloned|failed/),
      /^Cloned m-\w+ into your cluster grid; deployment d-\S+ of grid started\./,
    );
    assert.match(await b.say(`deploy-entry ${ids.grid}`, /^Deployment|failed/), /^Deployment d-\S+ of grid started\./);
    assert.match(await b.say(`deploy-entry ${ids.grid} --worker lots`, /failed|:/), /--worker must be a whole number/);
    assert.match(await b.say(`deploy-entry ${ids.worker}`, /failed/), /is a context: clone it/);
    const reply = await b.say(`pair-entry ${ids.worker} --ttl 120`, /^Pairing code|failed/);
    const m = /^Pairing code for worker v1: ([0-9A-Z-]{19}) \(single use, expires /.exec(reply);
    assert.ok(m, reply);
    assert.equal((await redeem(m[1]!)).status, 200);
    assert.match(await b.say(`pair-entry ${ids.vault}`, /failed/), /is encrypted/);
    assert.match(await b.say(`pair-entry ${ids.worker} --ttl 5`, /failed/), /ttl_s: whole seconds from 30 to 86400/);
  });

  test('HTTP: POST /market/{id}/deploy (202, Idempotency-Key) and /market/{id}/pairing-code (201)', async () => {
    const base = g.http!.url;
    const login = await fetch(`${base}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `bob@${t.host}`, password: BOB_PW }),
    });
    const { access_token } = (await login.json()) as { access_token: string };
    const post = async (path: string, json: unknown, headers: Record<string, string> = {}) => {
      const r = await fetch(`${base}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(json),
      });
      return {
        status: r.status,
        location: r.headers.get('location'),
        type: r.headers.get('content-type'),
        body: (await r.json()) as any,
      };
    };
    const d1 = await post(`/market/${ids.farm}/deploy`, { counts: { worker: 2 } }, { 'idempotency-key': 'farm-1' });
    assert.equal(d1.status, 202, JSON.stringify(d1.body));
    assert.equal(d1.location, `/api/v1/deployments/${d1.body.deployment.id}`);
    assert.deepEqual([d1.body.cloned, d1.body.cluster.name, d1.body.deployment.cluster], [true, 'farm', 'farm']);
    const retry = await post(`/market/${ids.farm}/deploy`, { counts: { worker: 2 } }, { 'idempotency-key': 'farm-1' });
    assert.equal(retry.body.deployment.id, d1.body.deployment.id, 'a retry gets the first answer');

    const p = await post(`/market/${ids.worker}/pairing-code`, { ttl_s: 60 });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    assert.deepEqual([p.body.context, p.body.version], ['worker', 1]);
    assert.equal((await redeem(p.body.code)).status, 200);

    const problem = async (
      a: Promise<{ status: number; type: string | null; body: any }>,
      status: number,
      re: RegExp,
    ) => {
      const r = await a;
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.type?.split(';')[0], 'application/problem+json');
      assert.match(r.body.detail ?? r.body.title, re);
    };
    await problem(post(`/market/${ids.vault}/pairing-code`, {}), 422, /is encrypted/);
    await problem(post(`/market/${ids.worker}/deploy`, {}), 422, /is a context/);
    await problem(post('/market/m-000000000000/deploy', {}), 404, /not found/);
    await problem(post(`/market/${ids.worker}/pairing-code`, { ttl_s: 5 }), 400, /ttl_s/);
  });

  test('an encrypted entry shows none of its content, in plain or encrypted form, on IQ, HTTP or in the marketplace tables', async () => {
    const vault = g.model.contexts.byName(`alice@${t.host}`, 'vault')!;
    const v = g.model.contexts.version(vault.id)!;
    assert.equal(v.content.type, 'encrypted');
    const blob = v.content.type === 'encrypted' ? Buffer.from(v.content.blob) : Buffer.alloc(0);
    const leaks = (text: string) =>
      /s3cr3t|TOKEN|amiconfig/.test(text) ||
      text.includes(blob.toString('base64').slice(0, 24)) ||
      text.includes(blob.toString('hex').slice(0, 24));
    const iq = await bob.request(gw.MarketSearch, g.agent.jid, { q: 'vault', page: undefined });
    assert.deepEqual(
      iq.entries.map((e) => [e.name, e.encrypted]),
      [['vault', true]],
    );
    assert.equal(leaks(JSON.stringify(iq)), false, JSON.stringify(iq));
    const base = g.http!.url;
    const login = await fetch(`${base}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `bob@${t.host}`, password: BOB_PW }),
    });
    const { access_token } = (await login.json()) as { access_token: string };
    const http = await (
      await fetch(`${base}/api/v1/market?q=vault`, { headers: { authorization: `Bearer ${access_token}` } })
    ).text();
    assert.match(http, /"encrypted":true/);
    assert.equal(leaks(http), false, http);
    const rows = JSON.stringify(g.model.db.prepare('SELECT * FROM market_entries').all());
    assert.equal(leaks(rows), false, 'the entry stores no copy of the content');
  });
});
