/**
 * The HTTP API against a real ejabberd (passwords checked by a real SASL login) and a
 * gateway with a stand-in cloud: login and tokens, idempotent creates, isolation between
 * users, revocation, the event stream resumed with Last-Event-ID, bad input as problem+json,
 * and the seed's three calls.
 */
import { request as httpsRequest } from 'node:https';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/index.js';
import type { Gateway } from '../../agents/gateway/index.js';
import { StandInCloud } from './peers.js';
import { clusterIni, CONTEXT, engineSuite, startGateway, until } from './harness.js';

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

describe('HTTP API', { timeout: 240_000 }, () => {
  const s = engineSuite('cgt-gw-http-');
  let g: Gateway;
  let base = '';
  let host = '';

  const call = async (
    method: string,
    path: string,
    o: { token?: string; json?: unknown; body?: string; type?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined = o.body;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] = 'application/json';
    }
    if (o.type) headers['content-type'] = o.type;
    const r = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: r.status, headers: r.headers, body: parsed };
  };
  const isProblem = (a: Answer, status: number, code: string) => {
    assert.equal(a.status, status, JSON.stringify(a.body));
    assert.equal(a.headers.get('content-type')?.split(';')[0], 'application/problem+json');
    assert.equal(a.body.code, code, JSON.stringify(a.body));
    assert.equal(a.body.status, status);
    assert.ok(!/\bat .*\.js:\d+/.test(JSON.stringify(a.body)), 'no stack trace');
  };
  const login = async (user: string, password: string) => {
    const r = await call('POST', '/api/v1/login', { json: { username: `${user}@${host}`, password } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { access_token: string; refresh_token: string };
  };

  /** Reads an SSE stream until `stop` says so or it ends; returns the events' ids and types. */
  const follow = async (
    path: string,
    token: string,
    stop: (seen: Array<{ id: number; type: string }>) => boolean,
    lastEventId?: number,
  ) => {
    const ac = new AbortController();
    const r = await fetch(`${base}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {}),
      },
      signal: ac.signal,
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/event-stream');
    const seen: Array<{ id: number; type: string }> = [];
    const reader = r.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    try {
      while (!stop(seen)) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const id = /^id: (\d+)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id && data) seen.push({ id: Number(id), type: (JSON.parse(data) as { type: string }).type });
          if (stop(seen)) break;
        }
      }
    } finally {
      ac.abort();
    }
    return seen;
  };

  test('set-up: a gateway with its HTTP API on loopback, users with passwords', async () => {
    host = s.t.host;
    await s.t.register('hana', 'hana-secret-1');
    await s.t.register('ben', 'ben-secret-1');
    await s.t.register('rita', 'rita-secret-1');
    const cloud = new StandInCloud(s.t, 'cloud-h', { name: 'cloud-h' });
    await cloud.start(`gateway-h@${host}`);
    s.running.push(cloud);
    g = await startGateway(s.t, {
      dir: s.dir,
      user: 'gateway-h',
      clouds: [cloud.jid],
      http: { host: '127.0.0.1', port: 0, loginFailures: 3 },
    });
    s.running.push(g);
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    base = g.http!.url;
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('login, idempotent deploy with 202 + Location, the stream resumed with Last-Event-ID, scale and destroy', async () => {
    const t = await login('hana', 'hana-secret-1');
    const who = await call('GET', '/api/v1/whoami', { token: t.access_token });
    assert.deepEqual(who.body, { jid: `hana@${host}`, admin: false, groups: [], allowed: true, scope: 'full' });

    const ctx = await call('POST', '/api/v1/contexts', {
      token: t.access_token,
      json: { name: 'node', body: CONTEXT },
    });
    assert.equal(ctx.status, 201, JSON.stringify(ctx.body));
    const cl = await call('PUT', '/api/v1/clusters', {
      token: t.access_token,
      json: { definition: clusterIni({ context: 'node', initial: 2 }) },
    });
    assert.equal(cl.status, 200, JSON.stringify(cl.body));

    const headers = { 'idempotency-key': 'create-1' };
    const [a, b] = await Promise.all([
      call('POST', '/api/v1/deployments', {
        token: t.access_token,
        json: { cluster: 'batch', counts: { worker: 2 } },
        headers,
      }),
      call('POST', '/api/v1/deployments', {
        token: t.access_token,
        json: { cluster: 'batch', counts: { worker: 2 } },
        headers,
      }),
    ]);
    assert.equal(a.status, 202, JSON.stringify(a.body));
    const id = a.body.id as string;
    assert.equal(a.headers.get('location'), `/api/v1/deployments/${id}`);
    assert.equal(b.status, 202);
    assert.equal(b.body.id, id);
    const again = await call('POST', '/api/v1/deployments', {
      token: t.access_token,
      json: { cluster: 'batch', counts: { worker: 2 } },
      headers,
    });
    assert.equal(again.body.id, id);
    assert.equal(g.model.deployments.list({ owner: `hana@${host}` }).length, 1, 'one deployment for one key');

    // A follower that drops off after two events and comes back with Last-Event-ID.
    const first = await follow(`/api/v1/deployments/${id}/events/stream`, t.access_token, (seen) => seen.length >= 2);
    const rest = await follow(
      `/api/v1/deployments/${id}/events/stream`,
      t.access_token,
      (seen) =>
        seen.some(
          (e) =>
            e.type === 'state' &&
            g.model.deployments.require(id).state === 'completed' &&
            seen[seen.length - 1]!.id >= Math.max(...g.model.events.list(id).map((x) => x.seq)),
        ),
      first[first.length - 1]!.id,
    );
    const got = [...first, ...rest].map((e) => e.id);
    const stored = g.model.events
      .list(id)
      .map((e) => e.seq)
      .filter((x) => x <= got[got.length - 1]!);
    assert.deepEqual(got, stored, 'every event exactly once, in order');
    const polled = await call('GET', `/api/v1/deployments/${id}/events?since=${first[0]!.id}`, {
      token: t.access_token,
    });
    assert.deepEqual(
      polled.body.events.map((e: { seq: number }) => e.seq),
      stored.slice(1).concat(g.model.events.list(id, { afterSeq: stored[stored.length - 1]! }).map((e) => e.seq)),
    );

    const sc = await call('POST', `/api/v1/deployments/${id}/scale`, {
      token: t.access_token,
      json: { service: 'worker', count: 3 },
    });
    assert.equal(sc.status, 202, JSON.stringify(sc.body));
    await until(
      'scaled',
      async () =>
        (await call('GET', `/api/v1/deployments/${id}`, { token: t.access_token })).body.services.find(
          (x: { name: string }) => x.name === 'worker',
        )?.ready === 3,
    );
    const list = await call('GET', '/api/v1/deployments?limit=1', { token: t.access_token });
    assert.equal(list.body.deployments.length, 1);
    const del = await call('DELETE', `/api/v1/deployments/${id}`, { token: t.access_token });
    assert.equal(del.status, 202);
    await until(
      'destroyed',
      async () =>
        (await call('GET', `/api/v1/deployments/${id}`, { token: t.access_token })).body.destroyed === 'destroyed',
    );
  });

  test('autoscaling: shown with the deployment, paused, resumed and replaced; bad requests named', async () => {
    const t = await login('hana', 'hana-secret-1');
    const ini = `${clusterIni({ name: 'auto', context: 'node', initial: 1 })}\n[autoscale.worker]\npolicy = target\nmetric = load1\ntarget = 0.7\n`;
    assert.equal(
      (await call('PUT', '/api/v1/clusters', { token: t.access_token, body: ini, type: 'text/plain' })).status,
      200,
    );
    const dep = await call('POST', '/api/v1/deployments', { token: t.access_token, json: { cluster: 'auto' } });
    assert.equal(dep.status, 202, JSON.stringify(dep.body));
    const id = dep.body.id as string;
    const path = `/api/v1/deployments/${id}/autoscale`;

    const one = await call('GET', `/api/v1/deployments/${id}`, { token: t.access_token });
    assert.deepEqual(
      one.body.autoscale.map((v: { service: string; paused: boolean }) => [v.service, v.paused]),
      [['worker', false]],
    );
    assert.match(one.body.autoscale[0].policy, /^target: load1 average at 0\.7/);
    const shown = await call('GET', path, { token: t.access_token });
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.policies, one.body.autoscale);

    const paused = await call('POST', `${path}/worker/pause`, { token: t.access_token });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal(paused.body.paused, true);
    assert.match(paused.body.note, /paused by hana@/);
    assert.equal(
      (await call('GET', `/api/v1/deployments/${id}`, { token: t.access_token })).body.autoscale[0].paused,
      true,
    );
    assert.ok(
      g.model.events.list(id).some((e) => e.type === 'autoscale' && /autoscaling paused by hana@/.test(e.message)),
      'the pause is an event',
    );
    const resumed = await call('POST', `${path}/worker/resume`, { token: t.access_token });
    assert.equal(resumed.status, 200);
    assert.equal(resumed.body.paused, false);

    const set = await call('PUT', `${path}/worker`, {
      token: t.access_token,
      body: 'policy = target\nmetric = load1\ntarget = 0.4\n',
      type: 'text/plain',
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.match(set.body.policy, /^target: load1 average at 0\.4/);
    const json = await call('PUT', `${path}/worker`, {
      token: t.access_token,
      json: { policy: 'policy = target\nmetric = load1\ntarget = 0.5' },
    });
    assert.match(json.body.policy, /at 0\.5/);

    isProblem(
      await call('PUT', `${path}/worker`, {
        token: t.access_token,
        json: { policy: 'policy = target\nmetric = load1\ntarget = 0.5\nsurprise = 1' },
      }),
      422,
      'invalid-field',
    );
    assert.match(
      g.service.autoscale.show(`hana@${host}`, id)[0]!.policy,
      /at 0\.5/,
      'a rejected policy changes nothing',
    );
    const fixed = await call('POST', `${path}/head/pause`, { token: t.access_token });
    isProblem(fixed, 422, 'invalid-field');
    assert.match(fixed.body.detail, /'head' is a fixed service/);
    const missing = await call('POST', `${path}/nope/resume`, { token: t.access_token });
    isProblem(missing, 404, 'not-found');
    assert.match(missing.body.detail, /nope/);
    const ben = await login('ben', 'ben-secret-1');
    isProblem(await call('GET', path, { token: ben.access_token }), 404, 'not-found');
    isProblem(await call('POST', `${path}/worker/pause`, { token: ben.access_token }), 404, 'not-found');
    assert.equal(
      g.service.autoscale.show(`hana@${host}`, id)[0]!.paused,
      false,
      "another user's request changes nothing",
    );

    assert.equal((await call('DELETE', `/api/v1/deployments/${id}`, { token: t.access_token })).status, 202);
    await until('destroyed', () => g.model.deployments.require(id).destroyedAt !== undefined);
    isProblem(await call('POST', `${path}/worker/pause`, { token: t.access_token }), 409, 'conflict');
  });

  test('marketplace: two users publish, search (+tag, -tag, words), vote, clone and unpublish', async () => {
    const hana = await login('hana', 'hana-secret-1');
    const ben = await login('ben', 'ben-secret-1');
    assert.equal(
      (await call('POST', '/api/v1/contexts', { token: hana.access_token, json: { name: 'shop', body: CONTEXT } }))
        .status,
      201,
    );
    assert.equal(
      (
        await call('PUT', '/api/v1/clusters', {
          token: hana.access_token,
          body: clusterIni({ name: 'grid' }),
          type: 'text/plain',
        })
      ).status,
      200,
    );
    const pub = await call('POST', '/api/v1/market', {
      token: hana.access_token,
      json: {
        context: 'shop',
        summary: 'A web shop node',
        description: 'serves the storefront',
        tags: ['web', 'shop'],
      },
    });
    assert.equal(pub.status, 201, JSON.stringify(pub.body));
    assert.equal(pub.headers.get('location'), `/api/v1/market/${pub.body.id}`);
    assert.deepEqual(
      [pub.body.kind, pub.body.owner, pub.body.version, pub.body.tags],
      ['context', `hana@${host}`, 1, ['shop', 'web']],
    );
    const grid = await call('POST', '/api/v1/market', {
      token: hana.access_token,
      json: { cluster: 'grid', summary: 'A head and its workers', tags: ['batch', 'web'] },
    });
    assert.equal(grid.status, 201, JSON.stringify(grid.body));
    assert.equal(grid.body.kind, 'cluster');

    const ids = async (q: string) => {
      const r = await call('GET', `/api/v1/market?q=${encodeURIComponent(q)}`, { token: ben.access_token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.entries.map((e: { id: string }) => e.id).sort();
    };
    assert.deepEqual(await ids('+web'), [pub.body.id, grid.body.id].sort());
    assert.deepEqual(await ids('+web -batch'), [pub.body.id]);
    assert.deepEqual(await ids('storefront'), [pub.body.id], 'words match the description');
    assert.deepEqual(await ids('workers +batch'), [grid.body.id]);
    assert.deepEqual(await ids('+nosuchtag'), []);
    isProblem(await call('GET', '/api/v1/market?cursor=bm9wZQ', { token: ben.access_token }), 400, 'invalid-field');
    isProblem(await call('GET', '/api/v1/market?q=%2BBad!Tag', { token: ben.access_token }), 422, 'invalid-field');

    const up = await call('PUT', `/api/v1/market/${grid.body.id}/vote`, {
      token: ben.access_token,
      json: { value: 'up' },
    });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.deepEqual([up.body.rank, up.body.votes], [1, 1]);
    const first = await call('GET', '/api/v1/market?q=%2Bweb', { token: ben.access_token });
    assert.equal(first.body.entries[0].id, grid.body.id, 'ranked first once voted up');
    isProblem(
      await call('PUT', `/api/v1/market/${grid.body.id}/vote`, { token: hana.access_token, json: { value: 'up' } }),
      403,
      'not-in-acl',
    );
    isProblem(
      await call('PUT', `/api/v1/market/${grid.body.id}/vote`, {
        token: ben.access_token,
        json: { value: 'sideways' },
      }),
      400,
      'invalid-field',
    );

    const cc = await call('POST', `/api/v1/market/${pub.body.id}/clone`, {
      token: ben.access_token,
      json: { name: 'my-shop' },
    });
    assert.equal(cc.status, 201, JSON.stringify(cc.body));
    assert.deepEqual([cc.body.context.name, cc.body.context.owner], ['my-shop', `ben@${host}`]);
    const body = await call('GET', `/api/v1/contexts/${cc.body.context.id}/versions/1`, { token: ben.access_token });
    assert.equal(body.body.body, CONTEXT);
    const cg = await call('POST', `/api/v1/market/${grid.body.id}/clone`, { token: ben.access_token, json: {} });
    assert.equal(cg.status, 201, JSON.stringify(cg.body));
    assert.deepEqual([cg.body.cluster.name, cg.body.cluster.owner], ['grid', `ben@${host}`]);
    isProblem(
      await call('POST', `/api/v1/market/${grid.body.id}/clone`, { token: ben.access_token, json: {} }),
      409,
      'conflict',
    );

    isProblem(await call('DELETE', `/api/v1/market/${pub.body.id}`, { token: ben.access_token }), 403, 'not-in-acl');
    isProblem(
      await call('POST', '/api/v1/market', { token: ben.access_token, json: { context: 'shop', summary: 'not mine' } }),
      404,
      'not-found',
    );
    isProblem(
      await call('POST', '/api/v1/market', { token: ben.access_token, json: { summary: 'nothing named' } }),
      422,
      'invalid-field',
    );
    assert.equal((await call('DELETE', `/api/v1/market/${pub.body.id}`, { token: hana.access_token })).status, 204);
    assert.deepEqual(await ids('+web'), [grid.body.id]);
    isProblem(
      await call('POST', `/api/v1/market/${pub.body.id}/clone`, { token: ben.access_token, json: {} }),
      404,
      'not-found',
    );
  });

  test('a cluster definition as parsed JSON or as its INI text; one job by its id', async () => {
    const t = await login('hana', 'hana-secret-1');
    const ini = `${clusterIni({ name: 'spec', context: 'node', initial: 1, max: 4 })}\n[autoscale.worker]\npolicy = target\nmetric = load1\ntarget = 0.7\n`;
    assert.equal(
      (await call('PUT', '/api/v1/clusters', { token: t.access_token, body: ini, type: 'text/plain' })).status,
      200,
    );
    const json = await call('GET', '/api/v1/clusters/spec', {
      token: t.access_token,
      headers: { accept: 'application/json' },
    });
    assert.equal(json.status, 200, JSON.stringify(json.body));
    assert.equal(json.body.definition, ini);
    assert.deepEqual(
      json.body.spec.services.map((x: { name: string; type: string }) => [x.name, x.type]),
      [
        ['head', 'fixed'],
        ['worker', 'scalable'],
      ],
    );
    const worker = json.body.spec.services[1];
    assert.deepEqual(
      [worker.min, worker.initial, worker.max, worker.image, worker.autoscale.metric, worker.autoscale.target],
      [1, 1, 4, 'test-image', 'load1', 0.7],
    );
    const text = await call('GET', '/api/v1/clusters/spec', {
      token: t.access_token,
      headers: { accept: 'text/plain' },
    });
    assert.equal(text.status, 200);
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(text.body, ini);

    const dep = await call('POST', '/api/v1/deployments', { token: t.access_token, json: { cluster: 'spec' } });
    assert.equal(dep.status, 202, JSON.stringify(dep.body));
    const jobs = await call('GET', `/api/v1/deployments/${dep.body.id}/jobs`, { token: t.access_token });
    const first = jobs.body.jobs[0];
    assert.equal(first.kind, 'deploy');
    const one = await call('GET', `/api/v1/jobs/${first.id}`, { token: t.access_token });
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.deepEqual([one.body.id, one.body.kind, one.body.request.cluster], [first.id, 'deploy', 'spec']);
    await until(
      'the deploy job succeeded',
      async () => (await call('GET', `/api/v1/jobs/${first.id}`, { token: t.access_token })).body.state === 'succeeded',
    );
    const ben = await login('ben', 'ben-secret-1');
    isProblem(await call('GET', `/api/v1/jobs/${first.id}`, { token: ben.access_token }), 404, 'not-found');
    isProblem(await call('GET', '/api/v1/jobs/no-such-job', { token: t.access_token }), 404, 'not-found');
    assert.equal((await call('DELETE', `/api/v1/deployments/${dep.body.id}`, { token: t.access_token })).status, 202);
  });

  test("another user gets 404 for the first user's deployment, context and cluster", async () => {
    const hana = await login('hana', 'hana-secret-1');
    const ben = await login('ben', 'ben-secret-1');
    const dep = (await call('GET', '/api/v1/deployments', { token: hana.access_token })).body.deployments[0].id;
    const ctx = (await call('GET', '/api/v1/contexts', { token: hana.access_token })).body.contexts[0].id;
    isProblem(await call('GET', `/api/v1/deployments/${dep}`, { token: ben.access_token }), 404, 'not-found');
    isProblem(await call('DELETE', `/api/v1/deployments/${dep}`, { token: ben.access_token }), 404, 'not-found');
    isProblem(await call('GET', `/api/v1/deployments/${dep}/events`, { token: ben.access_token }), 404, 'not-found');
    isProblem(await call('GET', `/api/v1/contexts/${ctx}`, { token: ben.access_token }), 404, 'not-found');
    isProblem(await call('GET', `/api/v1/contexts/${ctx}/versions/1`, { token: ben.access_token }), 404, 'not-found');
    isProblem(await call('GET', '/api/v1/clusters/batch', { token: ben.access_token }), 404, 'not-found');
    assert.deepEqual((await call('GET', '/api/v1/deployments', { token: ben.access_token })).body.deployments, []);
  });

  test('an encrypted context: created and given a new version with a passphrase, read only with it', async () => {
    const hana = await login('hana', 'hana-secret-1');
    const made = await call('POST', '/api/v1/contexts', {
      token: hana.access_token,
      json: { name: 'sealed', body: CONTEXT, passphrase: 'first secret' },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.context.encrypted, true);
    const id = made.body.context.id;
    const v2 = `${CONTEXT}\n; second version\n`;
    const next = await call('POST', `/api/v1/contexts/${id}/versions`, {
      token: hana.access_token,
      json: { body: v2, passphrase: 'second secret' },
    });
    assert.equal(next.status, 201, JSON.stringify(next.body));
    assert.deepEqual([next.body.context.version, next.body.context.encrypted], [2, true]);
    const read = (version: number, pass?: string) =>
      call('GET', `/api/v1/contexts/${id}/versions/${version}`, {
        token: hana.access_token,
        ...(pass ? { headers: { 'x-passphrase': pass } } : {}),
      });
    const none = await read(2);
    assert.ok(none.status >= 400 && none.status < 500, JSON.stringify(none.body));
    const wrong = await read(2, 'first secret');
    assert.ok(wrong.status >= 400 && wrong.status < 500, JSON.stringify(wrong.body));
    assert.ok(!JSON.stringify(wrong.body).includes('second version'), 'nothing of the text without its passphrase');
    assert.equal((await read(2, 'second secret')).body.body, v2);
    assert.equal((await read(1, 'first secret')).body.body, CONTEXT);
  });

  test('API tokens: scoped, listed without their secret, and refused at once when revoked', async () => {
    const hana = await login('hana', 'hana-secret-1');
    const ro = await call('POST', '/api/v1/tokens', { token: hana.access_token, json: { name: 'ci', scope: 'read' } });
    assert.equal(ro.status, 201, JSON.stringify(ro.body));
    const secret = ro.body.token as string;
    assert.ok((await call('GET', '/api/v1/deployments', { token: secret })).status === 200);
    isProblem(
      await call('POST', '/api/v1/deployments', { token: secret, json: { cluster: 'batch' } }),
      403,
      'insufficient-scope',
    );
    const listed = await call('GET', '/api/v1/tokens', { token: hana.access_token });
    assert.deepEqual(
      listed.body.tokens.map((x: { name: string; scope: string }) => [x.name, x.scope]),
      [['ci', 'read']],
    );
    assert.ok(!JSON.stringify(listed.body).includes(secret));
    const stored = JSON.stringify(g.model.db.prepare('SELECT * FROM http_tokens').all());
    assert.ok(!stored.includes(secret), 'only a hash is stored');
    assert.equal((await call('DELETE', `/api/v1/tokens/${ro.body.info.id}`, { token: hana.access_token })).status, 204);
    isProblem(await call('GET', '/api/v1/deployments', { token: secret }), 401, 'invalid-token');
    // A refresh token is good for one refresh.
    const r1 = await call('POST', '/api/v1/refresh', { json: { refresh_token: hana.refresh_token } });
    assert.equal(r1.status, 200);
    isProblem(
      await call('POST', '/api/v1/refresh', { json: { refresh_token: hana.refresh_token } }),
      401,
      'invalid-token',
    );
  });

  test('bad input: problem+json naming the problem, nothing stored', async () => {
    const t = await login('hana', 'hana-secret-1');
    const before = g.model.contexts.list(`hana@${host}`).length;
    isProblem(await call('GET', '/api/v1/deployments'), 401, 'unauthenticated');
    isProblem(await call('GET', '/api/v1/deployments', { token: 'nonsense' }), 401, 'invalid-token');
    // Only the seed's calls take a token from the URL (URLs end up in logs).
    isProblem(
      await call('GET', `/api/v1/whoami?access_token=${encodeURIComponent(t.access_token)}`),
      401,
      'unauthenticated',
    );
    isProblem(
      await call('POST', '/api/v1/contexts', {
        token: t.access_token,
        body: '{"name": "x",',
        type: 'application/json',
      }),
      400,
      'malformed-json',
    );
    const unknown = await call('POST', '/api/v1/contexts', {
      token: t.access_token,
      json: { name: 'x', body: CONTEXT, colour: 'red' },
    });
    isProblem(unknown, 400, 'invalid-field');
    assert.match(unknown.body.detail, /colour/);
    const wrongType = await call('POST', '/api/v1/deployments', {
      token: t.access_token,
      json: { cluster: 'batch', counts: { worker: 'two' } },
    });
    isProblem(wrongType, 400, 'invalid-field');
    assert.match(wrongType.body.field, /counts/);
    isProblem(
      await call('POST', '/api/v1/contexts', { token: t.access_token, json: { name: 'x', body: 'x'.repeat(600_000) } }),
      413,
      'body-too-large',
    );
    const bad = await call('POST', '/api/v1/contexts', {
      token: t.access_token,
      json: { name: 'bad', body: '[amiconfig]\nplugins = users\n\n[users]\nalice = x\n' },
    });
    isProblem(bad, 422, 'invalid-context');
    assert.equal(bad.body.problems[0].line, 5);
    assert.equal(bad.body.problems[0].key, 'alice');
    const counts = await call('POST', '/api/v1/deployments', {
      token: t.access_token,
      json: { cluster: 'batch', counts: { worker: 99 } },
    });
    isProblem(counts, 422, 'invalid-field');
    assert.equal(counts.body.field, 'counts.worker');
    isProblem(
      await call('POST', '/api/v1/deployments', { token: t.access_token, json: { cluster: 'nosuch' } }),
      404,
      'not-found',
    );
    assert.equal(g.model.contexts.list(`hana@${host}`).length, before);
  });

  test("the seed's three calls: login.json, alloc.json, jobstatus.json?id=&access_token=", async () => {
    const l = await call('POST', '/api/login.json', {
      body: new URLSearchParams({ username: `hana@${host}`, password: 'hana-secret-1' }).toString(),
      type: 'application/x-www-form-urlencoded',
    });
    assert.equal(l.status, 200, JSON.stringify(l.body));
    const token = l.body.access_token as string;
    const a = await call('POST', `/api/alloc.json?access_token=${encodeURIComponent(token)}`, {
      body: new URLSearchParams({ cluster: 'batch', 'count.worker': '1' }).toString(),
      type: 'application/x-www-form-urlencoded',
    });
    assert.equal(a.status, 202, JSON.stringify(a.body));
    const id = a.body.id as string;
    const st = await until('completed', async () => {
      const r = await call('GET', `/api/jobstatus.json?id=${id}&access_token=${encodeURIComponent(token)}`);
      return r.body.status === 'completed' && r;
    });
    assert.equal(st.body.id, id);
    assert.equal(st.body.cluster, 'batch');
    isProblem(await call('GET', `/api/jobstatus.json?id=${id}`), 401, 'unauthenticated');
    await call('DELETE', `/api/v1/deployments/${id}`, { token });
  });

  test('the OpenAPI document and the docs page', async () => {
    const d = await call('GET', '/api/openapi.json');
    assert.equal(d.status, 200);
    assert.equal(d.body.openapi, '3.1.0');
    for (const p of [
      '/api/v1/login',
      '/api/v1/deployments',
      '/api/v1/deployments/{id}/events/stream',
      '/api/v1/tokens',
      '/api/alloc.json',
    ])
      assert.ok(d.body.paths[p], p);
    const page = await fetch(`${base}/api/docs`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /openapi\.json/);
  });

  test('logins are rate limited: after the allowed failures even the right password waits', async () => {
    for (let i = 0; i < 3; i++)
      isProblem(
        await call('POST', '/api/v1/login', { json: { username: `rita@${host}`, password: 'wrong' } }),
        401,
        'bad-credentials',
      );
    const r = await call('POST', '/api/v1/login', { json: { username: `rita@${host}`, password: 'rita-secret-1' } });
    isProblem(r, 429, 'rate-limited');
    assert.ok(Number(r.headers.get('retry-after')) > 0);
  });

  test('HTTPS with the certificate given; plain HTTP only on loopback', async () => {
    const pem = s.t.ca;
    assert.match(pem, /PRIVATE KEY/, 'the project-local server.pem holds the certificate and its key');
    const { createHttpFront } = await import('../../agents/gateway/http.js');
    const deps = {
      service: g.service,
      model: g.model,
      events: new (await import('node:events')).EventEmitter(),
      log: g.agent.log,
      login: {} as never,
    };
    assert.throws(
      () => createHttpFront({ host: '0.0.0.0', port: 0, ...deps }),
      (e: unknown) => e instanceof ConfigError && /loopback only/.test((e as Error).message),
    );
    const front = createHttpFront({ host: '127.0.0.1', port: 0, tls: { cert: pem, key: pem }, ...deps });
    await front.start();
    try {
      assert.match(front.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          `${front.url}/api/openapi.json`,
          { ca: pem, servername: s.t.host, checkServerIdentity: () => undefined },
          (res) => {
            let t = '';
            res.on('data', (c) => {
              t += c;
            });
            res.on('end', () => resolve(t));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(JSON.parse(body).openapi, '3.1.0');
    } finally {
      await front.stop();
    }
  });
});
