/**
 * Web sessions against a real gateway: a session outlives a gateway restart (it is in the
 * gateway's database), and /api/docs is served under the pages' Content-Security-Policy
 * with no inline script.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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
});
