/**
 * Web sessions against a real gateway: a session outlives a gateway restart (it is in the
 * gateway's database), and /api/docs is served under the pages' Content-Security-Policy
 * with no inline script. Static files are named by their content's hash and kept by
 * browsers; pages are never stored.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../agents/gateway/index.js';
import { startGateway } from '../gateway/harness.js';
import { startServer } from '../gateway/e2e-setup.js';

const PASSWORD = 'dora-password-1';

describe('web sessions across a gateway restart', () => {
  let t: Awaited<ReturnType<typeof startServer>>;
  let dir = '';
  let g: Gateway | undefined;

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-wsess-'));
    await t.register('dora', PASSWORD);
  });
  after(async () => {
    await g?.stop().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const start = () => startGateway(t, { dir, clouds: [], http: { host: '127.0.0.1', port: 0 } });
  const cookieOf = (r: Response, name: string) =>
    r.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);
  const form = (web: string, path: string, cookie: string, body: Record<string, string>) =>
    fetch(`${web}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });
  const tokenIn = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1];

  test('a session opened before a restart still works after it; logout ends it', async () => {
    g = await start();
    let web = g.http!.webUrl.replace(/\/$/, '');
    const login = await fetch(`${web}/login`);
    const r = await form(web, '/login', cookieOf(login, 'cg_login')!, {
      csrf: tokenIn(await login.text())!,
      username: `dora@${t.host}`,
      password: PASSWORD,
    });
    assert.equal(r.status, 303);
    const session = cookieOf(r, 'cg_session')!;
    assert.equal((await fetch(`${web}/`, { headers: { cookie: session }, redirect: 'manual' })).status, 200);

    await g.stop();
    g = await start();
    web = g.http!.webUrl.replace(/\/$/, '');
    const home = await fetch(`${web}/`, { headers: { cookie: session }, redirect: 'manual' });
    assert.equal(home.status, 200, 'still logged in after the restart');
    const out = await form(web, '/logout', session, { csrf: tokenIn(await home.text())! });
    assert.equal(out.status, 303);
    assert.equal((await fetch(`${web}/`, { headers: { cookie: session }, redirect: 'manual' })).status, 303);
  });

  test('/api/docs: its script is a file, and the policy forbids inline ones', async () => {
    const base = g!.http!.url;
    const docs = await fetch(`${base}/api/docs`);
    assert.equal(docs.status, 200);
    const csp = docs.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    const body = await docs.text();
    assert.doesNotMatch(body, /<script>|<script [^>]*>[^<]/, 'no inline script');
    assert.doesNotMatch(body, /<style>/, 'no inline style');
    const src = /<script src="([^"]+)"/.exec(body)?.[1];
    assert.ok(src);
    const js = await fetch(`${base}${src}`);
    assert.equal(js.status, 200);
    assert.match(await js.text(), /openapi\.json/);
  });

  test('static files: kept for good at the URL a page names, asked again at any other; pages never stored', async () => {
    const base = g!.http!.url;
    const web = g!.http!.webUrl.replace(/\/$/, '');
    const login = await fetch(`${web}/login`);
    assert.equal(login.headers.get('cache-control'), 'no-store');
    const text = await login.text();
    const urls = [...text.matchAll(/(?:href|src)="(\/web\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.deepEqual(
      urls.map((u) => u.replace(/\?v=[0-9a-f]{16}$/, '')),
      ['/web/assets/web.css', '/web/assets/live.js'],
      'the stylesheet and script, each with a hash',
    );
    for (const u of urls) {
      const r = await fetch(`${base}${u}`);
      assert.equal(r.status, 200, u);
      assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable', u);
      const body = await r.text();
      assert.equal(
        u.slice(-16),
        createHash('sha256').update(body).digest('hex').slice(0, 16),
        `${u} names its content`,
      );
      for (const other of [u.replace(/\?v=.*/, ''), u.replace(/v=[0-9a-f]{16}/, 'v=0000000000000000')]) {
        const o = await fetch(`${base}${other}`);
        assert.equal(o.status, 200, other);
        assert.equal(o.headers.get('cache-control'), 'no-cache', other);
        assert.equal(await o.text(), body, `${other}: the current file`);
      }
    }
    const missing = await fetch(`${web}/assets/nothing.css`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('cache-control'), 'no-store');
  });
});
