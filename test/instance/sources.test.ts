import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { findContext, ContextNotFoundError } from '../../agents/instance/context/index.js';
import { tempRoot, serve, closedPort } from './helpers.js';

const CTX = '#!/bin/sh\n[amiconfig]\nplugins = environment\n[environment]\nA = 1\n';

/** Options that point every default source at nothing, so a test sees only what it sets up. */
async function nowhere(t: Parameters<typeof tempRoot>[0]) {
  return {
    env: {},
    metadataUrl: `http://127.0.0.1:${await closedPort()}/latest/user-data`,
    configDriveDirs: [join(tempRoot(t), 'none')],
    timeoutMs: 500,
  };
}

test('source 1: the file named by CLOUDGATE_CONTEXT_FILE', async (t) => {
  const dir = tempRoot(t);
  const file = join(dir, 'context.ini');
  writeFileSync(file, CTX);
  const r = await findContext({ ...(await nowhere(t)), env: { CLOUDGATE_CONTEXT_FILE: file } });
  assert.deepEqual(r, { source: 'file', location: file, text: CTX, encodings: [] });
});

/** A fake EC2 metadata service; `mode` picks how it behaves. */
async function imds(
  t: Parameters<typeof tempRoot>[0],
  mode: 'v2' | 'v1' | '404' | 'v2-silent-token' | 'v2-silent-token-busy',
  body: Buffer | string = CTX,
) {
  const seen: string[] = [];
  const { url } = await serve(t, (req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['x-aws-ec2-metadata-token'] ?? '-'}`);
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (mode === 'v2-silent-token') return; // never answers, as with a hop limit of 1
      if (mode === 'v2-silent-token-busy') {
        // The machine is busy past the whole budget while the token is awaited: every
        // timer, the token's included, fires late.
        const until = Date.now() + 450;
        while (Date.now() < until);
        return;
      }
      if (mode !== 'v2') {
        res.statusCode = 405;
        res.end();
        return;
      }
      assert.equal(req.headers['x-aws-ec2-metadata-token-ttl-seconds'], '60');
      res.end('TOKEN123');
      return;
    }
    if (req.method === 'GET' && req.url === '/latest/user-data') {
      if (mode === '404') {
        res.statusCode = 404;
        res.end();
        return;
      }
      if (mode === 'v2' && req.headers['x-aws-ec2-metadata-token'] !== 'TOKEN123') {
        res.statusCode = 401;
        res.end();
        return;
      }
      res.end(body);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  return { url: `${url}/latest/user-data`, seen };
}

test('source 2: metadata service, IMDSv2 with a session token', async (t) => {
  const { url, seen } = await imds(t, 'v2');
  const r = await findContext({ ...(await nowhere(t)), env: { CLOUDGATE_METADATA_URL: url }, metadataUrl: undefined });
  assert.equal(r.source, 'metadata');
  assert.equal(r.location, url);
  assert.equal(r.text, CTX);
  assert.deepEqual(seen, ['PUT /latest/api/token -', 'GET /latest/user-data TOKEN123']);
});

test('source 2: metadata service, IMDSv1 when the token endpoint refuses', async (t) => {
  const { url, seen } = await imds(t, 'v1');
  const r = await findContext({ ...(await nowhere(t)), metadataUrl: url });
  assert.equal(r.text, CTX);
  assert.deepEqual(seen, ['PUT /latest/api/token -', 'GET /latest/user-data -']);
});

test('source 2: metadata service, IMDSv1 when the token endpoint stays silent, within the budget', async (t) => {
  const { url, seen } = await imds(t, 'v2-silent-token');
  const started = Date.now();
  const r = await findContext({ ...(await nowhere(t)), metadataUrl: url, timeoutMs: 1000 });
  assert.equal(r.text, CTX);
  assert.deepEqual(seen, ['PUT /latest/api/token -', 'GET /latest/user-data -']);
  // Half the budget waiting for the token, then the user-data (answered at once); a late
  // timer on a loaded machine may add to it, but the silent endpoint is not waited out.
  const took = Date.now() - started;
  assert.ok(took >= 490 && took < 5000, `took ${took} ms`);
});

test('source 2: a token wait that ran late still leaves the user-data half the budget', async (t) => {
  const { url, seen } = await imds(t, 'v2-silent-token-busy');
  const r = await findContext({ ...(await nowhere(t)), metadataUrl: url, timeoutMs: 400 });
  assert.equal(r.text, CTX);
  assert.deepEqual(seen, ['PUT /latest/api/token -', 'GET /latest/user-data -']);
});

test('source 2: 404 means no user-data, then the config drive is used', async (t) => {
  const { url } = await imds(t, '404');
  const drive = tempRoot(t);
  writeFileSync(join(drive, 'user-data'), CTX);
  const r = await findContext({
    env: {},
    metadataUrl: url,
    configDriveDirs: [join(drive, 'absent'), drive],
    timeoutMs: 500,
  });
  assert.deepEqual(r, { source: 'config-drive', location: join(drive, 'user-data'), text: CTX, encodings: [] });
});

test('source 3: config drive from CLOUDGATE_CONFIG_DRIVE, OpenStack layout too', async (t) => {
  const drive = tempRoot(t);
  mkdirSync(join(drive, 'openstack/latest'), { recursive: true });
  writeFileSync(join(drive, 'openstack/latest/user_data'), CTX);
  const n = await nowhere(t);
  const r = await findContext({ env: { CLOUDGATE_CONFIG_DRIVE: drive }, metadataUrl: n.metadataUrl, timeoutMs: 500 });
  assert.equal(r.source, 'config-drive');
  assert.equal(r.location, join(drive, 'openstack/latest/user_data'));
});

test('user-data encodings: gzip, base64, and base64 of gzip, from every source', async (t) => {
  const gz = gzipSync(CTX);
  const cases: [string, Buffer | string, string[]][] = [
    ['gzip', gz, ['gzip']],
    ['base64', Buffer.from(CTX).toString('base64'), ['base64']],
    ['gzip+base64', gz.toString('base64').replace(/(.{20})/g, '$1\n'), ['base64', 'gzip']],
    ['gzip of base64 text', gzipSync(Buffer.from(CTX).toString('base64')), ['gzip', 'base64']],
  ];
  for (const [name, body, encodings] of cases) {
    const { url } = await imds(t, 'v1', typeof body === 'string' ? body : body);
    const m = await findContext({ ...(await nowhere(t)), metadataUrl: url });
    assert.equal(m.text, CTX, name);
    assert.deepEqual(m.encodings, encodings, name);
    const drive = tempRoot(t);
    writeFileSync(join(drive, 'user-data'), body);
    const d = await findContext({ ...(await nowhere(t)), configDriveDirs: [drive] });
    assert.equal(d.text, CTX, name);
    const file = join(drive, 'ctx');
    writeFileSync(file, body);
    const f = await findContext({ ...(await nowhere(t)), env: { CLOUDGATE_CONTEXT_FILE: file } });
    assert.deepEqual(f.encodings, encodings, name);
  }
});

test('no source: one error listing every source tried and why', async (t) => {
  const { url } = await imds(t, '404');
  const drive = tempRoot(t);
  writeFileSync(join(drive, 'user-data'), '#cloud-config\npackages: [git]\n');
  const file = join(drive, 'missing.ini');
  await assert.rejects(
    findContext({
      env: { CLOUDGATE_CONTEXT_FILE: file },
      metadataUrl: url,
      configDriveDirs: [join(drive, 'nope'), drive],
      timeoutMs: 500,
    }),
    (err: unknown) => {
      assert.ok(err instanceof ContextNotFoundError);
      assert.equal(err.code, 'CG_CONTEXT_NOT_FOUND');
      assert.deepEqual(
        err.attempts.map((a) => [a.source, a.location, a.reason]),
        [
          ['file', file, 'no such file'],
          ['metadata', url, 'no user-data (HTTP 404, IMDSv1)'],
          ['config-drive', join(drive, 'nope'), 'no such directory'],
          ['config-drive', join(drive, 'user-data'), 'data is not an amiconfig context (no [section] header)'],
        ],
      );
      assert.match(err.message, /no context found; tried:\n {2}- file /);
      return true;
    },
  );
});

test('no source at all: unset variable and refused metadata connection are named', async (t) => {
  const n = await nowhere(t);
  await assert.rejects(findContext(n), (err: unknown) => {
    assert.ok(err instanceof ContextNotFoundError);
    assert.deepEqual(
      err.attempts.map((a) => a.source),
      ['file', 'metadata', 'config-drive'],
    );
    assert.equal(err.attempts[0].reason, 'not set');
    assert.match(err.attempts[1].reason, /ECONNREFUSED/);
    return true;
  });
});
