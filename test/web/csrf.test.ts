/**
 * The web pages' CSRF protection, at the HTTP level against a real gateway: a form post
 * whose token is missing or wrong (as a page on another site would send it, with the
 * victim's cookie) is refused with 403 and changes nothing; the same post with the token
 * of the page works.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../agents/gateway/index.js';
import { startGateway } from '../gateway/harness.js';
import { startServer } from '../gateway/e2e-setup.js';
import { cookieOf, postForm, tokenIn } from './forms.js';

const PASSWORD = 'csrf-password-1';

describe('web forms and CSRF', () => {
  let t: Awaited<ReturnType<typeof startServer>>;
  let dir = '';
  let g: Gateway;
  let web = '';

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-csrf-'));
    g = await startGateway(t, { dir, clouds: [], http: { host: '127.0.0.1', port: 0 } });
    await t.register('carol', PASSWORD);
    web = g.http!.webUrl.replace(/\/$/, '');
  });
  after(async () => {
    await g?.stop().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, cookie: string, form: Record<string, string>) => postForm(`${web}${path}`, cookie, form);

  test('a login post without the form token is refused; with it, a session starts', async () => {
    const form = await fetch(`${web}/login`);
    const loginCookie = cookieOf(form, 'cg_login');
    const token = tokenIn(await form.text());
    assert.ok(loginCookie && token, 'the login page sets its cookie and carries its token');

    const forged = await post('/login', loginCookie, { username: `carol@${t.host}`, password: PASSWORD });
    assert.equal(forged.status, 403);
    assert.equal(cookieOf(forged, 'cg_session'), undefined, 'no session for a post without the token');

    const ok = await post('/login', loginCookie, { csrf: token, username: `carol@${t.host}`, password: PASSWORD });
    assert.equal(ok.status, 303);
    assert.ok(cookieOf(ok, 'cg_session'), 'a session cookie');
  });

  test('a logged-in form post with a missing or wrong token changes nothing', async () => {
    const form = await fetch(`${web}/login`);
    const loginCookie = cookieOf(form, 'cg_login')!;
    const login = await post('/login', loginCookie, {
      csrf: tokenIn(await form.text())!,
      username: `carol@${t.host}`,
      password: PASSWORD,
    });
    const session = cookieOf(login, 'cg_session')!;
    const home = await fetch(`${web}/`, { headers: { cookie: session }, redirect: 'manual' });
    assert.equal(home.status, 200);
    const token = tokenIn(await home.text());
    assert.ok(token, 'the page carries the session token');

    for (const bad of [{}, { csrf: 'not-the-token' }] as Record<string, string>[]) {
      const r = await post('/logout', session, bad);
      assert.equal(r.status, 403);
      assert.match(await r.text(), /CSRF token does not match/);
      const still = await fetch(`${web}/`, { headers: { cookie: session }, redirect: 'manual' });
      assert.equal(still.status, 200, 'the session is still open');
    }
    const out = await post('/logout', session, { csrf: token! });
    assert.equal(out.status, 303);
    const after = await fetch(`${web}/`, { headers: { cookie: session }, redirect: 'manual' });
    assert.equal(after.status, 303, 'logged out: the page sends to the login');
  });
});
