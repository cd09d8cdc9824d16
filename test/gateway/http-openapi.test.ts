/**
 * Requests generated from the OpenAPI document itself, valid and invalid (wrong types,
 * unknown fields, missing fields, malformed JSON, unknown ids), against a real gateway:
 * every answer's status is one the document lists for the operation, its body matches the
 * documented schema, and none is a 5xx.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from '../../agents/gateway/index.js';
import { StandInCloud } from './peers.js';
import { clusterIni, CONTEXT, engineSuite, startGateway, until } from './harness.js';

type Schema = Record<string, any>;

/** The part of JSON Schema the API's schemas use; returns the first mismatch, or undefined. */
function mismatch(s: Schema | undefined, v: unknown, path = '$'): string | undefined {
  if (!s || Object.keys(s).length === 0) return undefined;
  if (s.anyOf)
    return s.anyOf.some((x: Schema) => !mismatch(x, v, path)) ? undefined : `${path}: matches no alternative`;
  if ('const' in s) return v === s.const ? undefined : `${path}: not ${JSON.stringify(s.const)}`;
  if (s.enum) return s.enum.includes(v) ? undefined : `${path}: not one of ${s.enum}`;
  switch (s.type) {
    case 'string':
      return typeof v === 'string' ? undefined : `${path}: not a string`;
    case 'integer':
      return Number.isInteger(v) ? undefined : `${path}: not an integer`;
    case 'number':
      return typeof v === 'number' ? undefined : `${path}: not a number`;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `${path}: not a boolean`;
    case 'null':
      return v === null || v === undefined ? undefined : `${path}: not null`;
    case 'array':
      if (!Array.isArray(v)) return `${path}: not an array`;
      for (const [i, x] of v.entries()) {
        const m = mismatch(s.items, x, `${path}[${i}]`);
        if (m) return m;
      }
      return undefined;
    case 'object': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${path}: not an object`;
      for (const r of s.required ?? []) if (!(r in v)) return `${path}.${r}: missing`;
      for (const [k, x] of Object.entries(v)) {
        const m = s.properties?.[k] ? mismatch(s.properties[k], x, `${path}.${k}`) : undefined;
        if (m) return m;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A value the schema accepts. */
function sample(s: Schema): unknown {
  if (s.anyOf) return sample(s.anyOf[0]);
  if ('const' in s) return s.const;
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'string':
      return s.pattern ? 'a1' : 'x'.repeat(Math.max(1, s.minLength ?? 1));
    case 'integer':
    case 'number':
      return Math.max(s.minimum ?? 1, 1);
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return Object.fromEntries((s.required ?? []).map((k: string) => [k, sample(s.properties[k])]));
    default:
      return 'x';
  }
}
const wrong = (s: Schema): unknown =>
  s.type === 'string' ? 12345 : s.type === 'object' ? 'not an object' : 'not a number';

describe('requests generated from the OpenAPI document', { timeout: 240_000 }, () => {
  const s = engineSuite('cgt-gw-openapi-');
  let g: Gateway;

  test('every answer is documented, matches its schema, and none is a 5xx', async () => {
    const host = s.t.host;
    await s.t.register('olga', 'olga-secret-1');
    const cloud = new StandInCloud(s.t, 'cloud-o', { name: 'cloud-o' });
    await cloud.start(`gateway-o@${host}`);
    s.running.push(cloud);
    g = await startGateway(s.t, {
      dir: s.dir,
      user: 'gateway-o',
      clouds: [cloud.jid],
      http: { host: '127.0.0.1', port: 0, loginFailures: 1000 },
    });
    s.running.push(g);
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    const base = g.http!.url;
    const login = (await (
      await fetch(`${base}/api/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `olga@${host}`, password: 'olga-secret-1' }),
      })
    ).json()) as { access_token: string };
    const token = login.access_token;
    const olga = `olga@${host}`;
    const ctx = await g.service.contexts.put(olga, { name: 'node', body: CONTEXT });
    g.service.clusters.put(olga, clusterIni({ context: 'node', initial: 1 }));
    const dep = await g.service.deployments.deploy(olga, { cluster: 'batch' });
    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Schema>>;
    };
    const real: Record<string, string> = { id: dep.id, version: '1', service: 'worker' };

    let calls = 0;
    const check = async (
      method: string,
      path: string,
      op: Schema,
      url: string,
      body: string | undefined,
      what: string,
    ) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(`${base}${url}`, {
        method: method.toUpperCase(),
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      calls++;
      const label = `${method.toUpperCase()} ${path} (${what}) -> ${r.status}`;
      assert.ok(r.status < 500, label);
      const documented = op.responses?.[String(r.status)];
      assert.ok(documented, `${label}: status not in the document (${Object.keys(op.responses ?? {}).join(', ')})`);
      const text = await r.text();
      if (r.status === 204 || !text) return;
      const schema =
        documented.content?.['application/json']?.schema ?? documented.content?.['text/event-stream']?.schema;
      const m = mismatch(schema, JSON.parse(text));
      assert.equal(m, undefined, `${label}: ${m} in ${text.slice(0, 300)}`);
    };

    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (path.endsWith('/stream') || path === '/api/v1/logout') continue; // streams stay open; logout would end the token's session
        const fill = (ids: Record<string, string>) =>
          path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(ids[k] ?? 'x'));
        const bodySchema: Schema | undefined = op.requestBody?.content?.['application/json']?.schema;
        const valid = bodySchema ? JSON.stringify(sample(bodySchema)) : undefined;
        if (!(method === 'delete' && path === '/api/v1/deployments/{id}'))
          await check(method, path, op, fill(real), valid, 'valid');
        if (path.includes('{'))
          await check(method, path, op, fill({ id: 'no-such-id', version: '999' }), valid, 'unknown id');
        if (bodySchema?.type === 'object') {
          await check(method, path, op, fill(real), '{"broken": ', 'malformed JSON');
          await check(
            method,
            path,
            op,
            fill(real),
            JSON.stringify({ ...(sample(bodySchema) as object), zz_unknown: 1 }),
            'unknown field',
          );
          for (const [k, ps] of Object.entries(bodySchema.properties ?? {})) {
            await check(
              method,
              path,
              op,
              fill(real),
              JSON.stringify({ ...(sample(bodySchema) as object), [k]: wrong(ps as Schema) }),
              `wrong type for ${k}`,
            );
          }
          for (const k of bodySchema.required ?? []) {
            const b = { ...(sample(bodySchema) as Record<string, unknown>) };
            delete b[k];
            await check(method, path, op, fill(real), JSON.stringify(b), `missing ${k}`);
          }
        }
        for (const q of (op.parameters ?? []).filter((p: Schema) => p.in === 'query' && p.schema?.type === 'integer')) {
          await check(method, path, op, `${fill(real)}?${q.name}=not-a-number`, valid, `query ${q.name} not a number`);
        }
      }
    }
    assert.ok(calls > 80, `${calls} requests`);
    // No invalid request stored anything: the one context is still at version 1.
    assert.equal(g.service.contexts.get(olga, ctx.context.id).latest, 1);
  });
});
