/**
 * Bad input to the new web forms, at the HTTP level against a real gateway: each gets its
 * form back with a message naming the problem and a 4xx status, never a 5xx; the admin
 * view is a 403 page for a non-admin.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../agents/gateway/index.js';
import { encryptContext } from '../../agents/gateway/model/index.js';
import { clusterIni, startGateway } from '../gateway/harness.js';
import { startServer } from '../gateway/e2e-setup.js';

const PASSWORD = 'erin-password-1';
const PLAIN = '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = test\n';

describe('web forms refuse bad input with a message', () => {
  let t: Awaited<ReturnType<typeof startServer>>;
  let dir = '';
  let g: Gateway;
  let web = '';
  let session = '';
  let csrf = '';
  const user = () => `erin@${t.host}`;

  const cookieOf = (r: Response, name: string) =>
    r.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);
  const tokenIn = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  const post = (path: string, form: Record<string, string>, cookie = session) =>
    fetch(`${web}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const get = (path: string) => fetch(`${web}${path}`, { headers: { cookie: session }, redirect: 'manual' });

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-wforms-'));
    g = await startGateway(t, { dir, clouds: [], http: { host: '127.0.0.1', port: 0 } });
    await t.register('erin', PASSWORD);
    web = g.http!.webUrl.replace(/\/$/, '');
    g.model.users.add(user());
    g.model.contexts.create({ owner: user(), name: 'plain', content: { type: 'plain', body: PLAIN } });
    const blob = await encryptContext(PLAIN, 'a long passphrase 1', { kdf: { log2N: 14, r: 8, p: 1 } });
    g.model.contexts.create({ owner: user(), name: 'sealed', content: { type: 'encrypted', blob } });
    g.model.clusters.put(user(), clusterIni({ name: 'small', context: 'plain', max: 3 }));
    g.model.clusters.put(user(), clusterIni({ name: 'secret', context: 'sealed' }));
    const login = await fetch(`${web}/login`);
    const r = await post(
      '/login',
      { csrf: tokenIn(await login.text())!, username: user(), password: PASSWORD },
      cookieOf(login, 'cg_login')!,
    );
    session = cookieOf(r, 'cg_session')!;
    csrf = tokenIn(await (await get('/')).text())!;
  });
  after(async () => {
    await g?.stop().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('deploy: a count outside min..max, a count that is no number, an unknown definition', async () => {
    const over = await post('/deploy', { csrf, cluster: 'small', 'count-worker': '9' });
    assert.equal(over.status, 422);
    const text = await over.text();
    assert.match(text, /role="alert">counts: worker must be an integer in 1\.\.3, got 9</);
    assert.match(text, /id="count-worker" name="count-worker"[^>]*value="9"/, 'the form keeps what was typed');
    const word = await post('/deploy', { csrf, cluster: 'small', 'count-worker': 'many' });
    assert.equal(word.status, 422);
    assert.match(await word.text(), /counts: worker: &quot;many&quot; is not a whole number of instances/);
    const none = await get('/deploy?cluster=nothing');
    assert.equal(none.status, 200);
    assert.match(await none.text(), /role="alert">no cluster definition &#39;nothing&#39;/);
    assert.equal(g.model.deployments.list({ owner: user() }).length, 0, 'nothing was deployed');
  });

  test('deploy: the passphrase field appears only for a definition with an encrypted context', async () => {
    assert.doesNotMatch(await (await get('/deploy?cluster=small')).text(), /name="passphrase"/);
    assert.match(await (await get('/deploy?cluster=secret')).text(), /<label for="passphrase">/);
    const wrong = await post('/deploy', { csrf, cluster: 'secret', passphrase: 'not the passphrase' });
    assert.ok(wrong.status >= 400 && wrong.status < 500, `status ${wrong.status}`);
    assert.match(await wrong.text(), /role="alert">[^<]*passphrase/i);
  });

  test('pairing: not enabled here is said so; a bad number of minutes is named', async () => {
    const page = await get('/pairing');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Pairing is not enabled on this gateway/);
    const r = await post('/pairing', { csrf, context: 'plain', minutes: '5' });
    assert.equal(r.status, 404);
  });

  test('admin view: a 403 page for a user who is not an admin', async () => {
    const r = await get('/admin');
    assert.equal(r.status, 403);
    assert.match(await r.text(), /Only the gateway(&#39;|')s admins see this page/);
  });
});
