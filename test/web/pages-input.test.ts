/**
 * Bad input to the contexts' and cluster definitions' pages, at the HTTP level against a
 * real ejabberd and gateway: every refusal is a page naming the problem with a 4xx status,
 * nobody changes or sees someone else's private context, a form without its CSRF token
 * changes nothing, and nothing answers with a 5xx.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../agents/gateway/index.js';
import { CONTEXT, startGateway } from '../gateway/harness.js';
import { startServer } from '../gateway/e2e-setup.js';

const PASSWORD = 'input-password-1';

describe('contexts and cluster pages refuse bad input clearly', () => {
  let t: Awaited<ReturnType<typeof startServer>>;
  let dir = '';
  let g: Gateway;
  let web = '';
  const who: Record<string, { jid: string; cookie: string; csrf: string }> = {};

  const cookieOf = (r: Response, name: string) =>
    r.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);
  const tokenIn = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  const post = (path: string, cookie: string, form: Record<string, string>) =>
    fetch(`${web}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const get = (path: string, cookie: string) => fetch(`${web}${path}`, { headers: { cookie }, redirect: 'manual' });
  const login = async (user: string) => {
    const form = await fetch(`${web}/login`);
    const r = await post('/login', cookieOf(form, 'cg_login')!, {
      csrf: tokenIn(await form.text())!,
      username: `${user}@${t.host}`,
      password: PASSWORD,
    });
    const cookie = cookieOf(r, 'cg_session')!;
    const home = await get('/', cookie);
    return { jid: `${user}@${t.host}`, cookie, csrf: tokenIn(await home.text())! };
  };
  /** The page's status and its alert text. */
  const refusal = async (r: Response) => {
    const text = await r.text();
    const alert = /<p class="error" role="alert">([^<]*)<\/p>/.exec(text)?.[1] ?? '';
    return { status: r.status, alert: alert.replaceAll('&#39;', "'").replaceAll('&quot;', '"'), text };
  };

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-webin-'));
    g = await startGateway(t, { dir, clouds: [], http: { host: '127.0.0.1', port: 0 } });
    await t.register('owner', PASSWORD);
    await t.register('stranger', PASSWORD);
    web = g.http!.webUrl.replace(/\/$/, '');
    who.owner = await login('owner');
    who.stranger = await login('stranger');
  });
  after(async () => {
    await g?.stop().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a context's page: unknown ids, bad versions, others' private contexts", async () => {
    const o = who.owner!;
    const s = who.stranger!;
    const r = await post('/contexts', o.cookie, { csrf: o.csrf, name: 'secret', body: CONTEXT });
    assert.equal(r.status, 200);
    const c = g.model.contexts.byName(o.jid, 'secret')!;

    assert.deepEqual(
      { ...(await refusal(await get('/contexts/c-nope', o.cookie))), text: '' },
      { status: 404, alert: "context 'c-nope' not found", text: '' },
    );
    const bad = await refusal(await get(`/contexts/${c.id}?a=abc&b=9`, o.cookie));
    assert.equal(bad.status, 422);
    assert.match(bad.alert, /version "abc": this context has versions 1 to 1/);

    // Private: the stranger cannot see, clone, share or write it, and learns nothing of it.
    for (const res of [
      await get(`/contexts/${c.id}`, s.cookie),
      await post(`/contexts/${c.id}/clone`, s.cookie, { csrf: s.csrf, name: 'mine' }),
      await post(`/contexts/${c.id}/visibility`, s.cookie, { csrf: s.csrf, visibility: 'public' }),
      await post(`/contexts/${c.id}/versions`, s.cookie, { csrf: s.csrf, body: CONTEXT }),
      await post(`/contexts/${c.id}/encrypt`, s.cookie, { csrf: s.csrf, passphrase: 'p', repeat: 'p' }),
      await post(`/contexts/${c.id}/decrypt`, s.cookie, { csrf: s.csrf, passphrase: 'p' }),
    ]) {
      const x = await refusal(res);
      assert.equal(x.status, 404, x.text);
      assert.doesNotMatch(x.text, /ROLE = test|>secret</);
    }
    assert.equal(g.model.contexts.require(c.id).visibility, 'private');
    assert.equal(g.model.contexts.require(c.id).latest, 1);
    assert.equal(g.model.contexts.byName(s.jid, 'mine'), undefined);

    // Public: readable and clonable, still not the stranger's to change.
    await post(`/contexts/${c.id}/visibility`, o.cookie, { csrf: o.csrf, visibility: 'public' });
    const changes = [
      await post(`/contexts/${c.id}/visibility`, s.cookie, { csrf: s.csrf, visibility: 'private' }),
      await post(`/contexts/${c.id}/versions`, s.cookie, { csrf: s.csrf, body: CONTEXT }),
      await post(`/contexts/${c.id}/encrypt`, s.cookie, { csrf: s.csrf, passphrase: 'p', repeat: 'p' }),
    ].map(refusal);
    const [vis, ver, enc] = await Promise.all(changes);
    assert.equal(vis!.status, 404);
    assert.deepEqual([ver!.status, ver!.alert], [422, `context 'secret' is ${o.jid}'s: clone it to change it`]);
    assert.deepEqual([enc!.status, enc!.alert], [422, `context 'secret' is ${o.jid}'s: clone it to encrypt it`]);
    assert.equal(g.model.contexts.require(c.id).visibility, 'public');
    assert.equal(g.model.contexts.require(c.id).latest, 1);

    // The owner's own bad values.
    const odd = await refusal(await post(`/contexts/${c.id}/visibility`, o.cookie, { csrf: o.csrf, visibility: 'x' }));
    assert.deepEqual([odd.status, odd.alert], [422, 'visibility "x": public or private']);
    const empty = await refusal(await post(`/contexts/${c.id}/encrypt`, o.cookie, { csrf: o.csrf, passphrase: '' }));
    assert.deepEqual([empty.status, empty.alert], [422, 'new passphrase: must not be empty']);
    const noName = await refusal(await post(`/contexts/${c.id}/clone`, o.cookie, { csrf: o.csrf, name: ' ' }));
    assert.deepEqual([noName.status, noName.alert], [422, 'name: give the copy a name']);
  });

  test('an encrypted version: a wrong or missing current passphrase encrypts nothing', async () => {
    const o = who.owner!;
    await post('/contexts', o.cookie, { csrf: o.csrf, name: 'locked', body: CONTEXT, passphrase: 'right one' });
    const c = g.model.contexts.byName(o.jid, 'locked')!;
    for (const current of ['wrong one', '']) {
      const r = await refusal(
        await post(`/contexts/${c.id}/encrypt`, o.cookie, { csrf: o.csrf, current, passphrase: 'n', repeat: 'n' }),
      );
      assert.ok(r.status >= 400 && r.status < 500, `${r.status}`);
      assert.match(r.alert, current ? /Wrong current passphrase for version 1/ : /encrypted: a passphrase is needed/);
    }
    const wrong = await refusal(
      await post(`/contexts/${c.id}/decrypt`, o.cookie, { csrf: o.csrf, a: '1', b: '1', passphrase: '' }),
    );
    assert.equal(wrong.status, 403);
    assert.match(wrong.alert, /Wrong passphrase for version 1/);
    assert.equal(g.model.contexts.require(c.id).latest, 1);
  });

  test('cluster forms: unknown names, values that would break the INI, too many rows, no token', async () => {
    const o = who.owner!;
    for (const path of ['/clusters/nope/edit', '/clusters/nope/ini', '/clusters/nope/ini.txt']) {
      const r = await refusal(await get(path, o.cookie));
      assert.deepEqual([r.status, r.alert], [404, "cluster 'nope' not found"], path);
    }
    const row = { 's0.name': 'a', 's0.type': 'fixed', 's0.flavor': 'small', 's0.image': 'img' };
    const broken = await post('/clusters', o.cookie, {
      csrf: o.csrf,
      name: 'c1',
      ...row,
      's0.image': 'img\n[service.b]\ntype = fixed',
    });
    assert.equal(broken.status, 422);
    assert.match(await broken.text(), /id="err-s0.image">must be on one line/);
    assert.equal(g.model.clusters.get(o.jid, 'c1'), undefined);

    // Rows past the 50th are not read; the form still saves what it read.
    const many: Record<string, string> = { csrf: o.csrf, name: 'c2' };
    for (let i = 0; i < 80; i++)
      Object.assign(many, { [`s${i}.name`]: `s${i}`, [`s${i}.flavor`]: 'small', [`s${i}.image`]: 'img' });
    const r = await post('/clusters', o.cookie, many);
    assert.equal(r.status, 303);
    assert.equal(g.model.clusters.get(o.jid, 'c2')!.definition.services.length, 50);

    const forged = await post('/clusters', o.cookie, { name: 'c3', ...row });
    assert.equal(forged.status, 403);
    assert.equal(g.model.clusters.get(o.jid, 'c3'), undefined);
    const ok = await post('/clusters', o.cookie, { csrf: o.csrf, name: 'c3', ...row });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/web/clusters/c3/ini?saved');
    const ini = await get('/clusters/c3/ini.txt', o.cookie);
    assert.equal(await ini.text(), g.model.clusters.get(o.jid, 'c3')!.ini);
    // Another user's definition of the same name is theirs: not visible here.
    const other = await refusal(await get('/clusters/c3/edit', who.stranger!.cookie));
    assert.equal(other.status, 404);
  });
});
