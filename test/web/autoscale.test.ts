/**
 * The autoscaling part of a deployment's web page, at the HTTP level against a real
 * gateway (ejabberd checks the logins): each policy with its state and latest decision,
 * pause and resume buttons that need the page's CSRF token, and refusals shown on the page
 * (a fixed service, another user's deployment).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../agents/gateway/index.js';
import { parseCluster } from '../../agents/gateway/model/index.js';
import { clusterIni, startGateway, until } from '../gateway/harness.js';
import { startServer } from '../gateway/e2e-setup.js';
import { cookieOf, postForm, tokenIn } from './forms.js';

const CLUSTER = `${clusterIni({ name: 'auto' })}\n[autoscale.worker]\npolicy = target\nmetric = load1\ntarget = 0.7\n`;

describe('autoscaling on the web page of a deployment', () => {
  let t: Awaited<ReturnType<typeof startServer>>;
  let dir = '';
  let g: Gateway;
  let web = '';
  let id = '';

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-web-autoscale-'));
    g = await startGateway(t, {
      dir,
      clouds: [],
      http: { host: '127.0.0.1', port: 0 },
      settings: { autoscaleIntervalMs: 200 },
    });
    await t.register('iris', 'iris-password-1');
    await t.register('jon', 'jon-password-1');
    web = g.http!.webUrl.replace(/\/$/, '');
    // A completed deployment of iris's, as the conductor leaves one (no cloud needed to show it).
    g.model.users.add(`iris@${t.host}`);
    const d = g.model.deployments.create(`iris@${t.host}`, parseCluster(CLUSTER));
    g.model.deployments.transition(d.id, 'running');
    g.model.deployments.transition(d.id, 'completed');
    id = d.id;
  });
  after(async () => {
    await g?.stop().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, cookie: string, form: Record<string, string>) => postForm(`${web}${path}`, cookie, form);
  /** A web session of `user`: its cookie and the CSRF token its pages carry. */
  async function login(user: string, password: string): Promise<{ session: string; csrf: string }> {
    const form = await fetch(`${web}/login`);
    const r = await post('/login', cookieOf(form, 'cg_login')!, {
      csrf: tokenIn(await form.text())!,
      username: `${user}@${t.host}`,
      password,
    });
    assert.equal(r.status, 303, `${user} logs in`);
    const session = cookieOf(r, 'cg_session')!;
    const home = await fetch(`${web}/`, { headers: { cookie: session } });
    return { session, csrf: tokenIn(await home.text())! };
  }
  const pageOf = async (session: string) => {
    const r = await fetch(`${web}/deployments/${id}`, { headers: { cookie: session }, redirect: 'manual' });
    return { status: r.status, text: await r.text() };
  };
  /** The autoscaling row of a service, as text without tags. */
  const row = (page: string, service: string) =>
    new RegExp(`<tr data-policy="${service}">([\\s\\S]*?)</tr>`)
      .exec(page)?.[1]
      ?.replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();

  test('the policy is shown with its state and latest decision; pause and resume need the token', async () => {
    const iris = await login('iris', 'iris-password-1');
    let page = await pageOf(iris.session);
    assert.equal(page.status, 200);
    assert.match(
      row(page.text, 'worker') ?? '',
      /^worker active target: load1 average at 0\.7 \(±10%\); steps .* Pause$/,
    );
    assert.match(page.text, new RegExp(`action="/web/deployments/${id}/autoscale/worker/pause"`));
    assert.equal(row(page.text, 'head'), undefined, 'a fixed service has no policy');
    // The gateway decides every 200 ms here; with no instance reporting, it holds.
    await until('the latest decision on the page', async () =>
      /no fresh load1 report from a ready instance: holding Pause$/.test(
        row((await pageOf(iris.session)).text, 'worker') ?? '',
      ),
    );

    const forged = await post(`/deployments/${id}/autoscale/worker/pause`, iris.session, {});
    assert.equal(forged.status, 403);
    assert.equal(g.service.autoscale.show(`iris@${t.host}`, id)[0]!.paused, false, 'no token: nothing paused');

    const paused = await post(`/deployments/${id}/autoscale/worker/pause`, iris.session, { csrf: iris.csrf });
    assert.equal(paused.status, 303);
    assert.equal(paused.headers.get('location'), `/web/deployments/${id}`);
    page = await pageOf(iris.session);
    assert.match(
      row(page.text, 'worker') ?? '',
      new RegExp(`^worker PAUSED paused by iris@${t.host.replace(/\./g, '\\.')} .* Resume$`),
    );
    assert.ok(
      g.model.events.list(id).some((e) => e.type === 'autoscale' && /autoscaling paused by iris@/.test(e.message)),
      'the pause is an event of the deployment',
    );

    const resumed = await post(`/deployments/${id}/autoscale/worker/resume`, iris.session, { csrf: iris.csrf });
    assert.equal(resumed.status, 303);
    assert.match(row((await pageOf(iris.session)).text, 'worker') ?? '', /^worker active .* Pause$/);
  });

  test("refusals are shown on the page and change nothing: a fixed service, another user's deployment", async () => {
    const iris = await login('iris', 'iris-password-1');
    const fixed = await post(`/deployments/${id}/autoscale/head/pause`, iris.session, { csrf: iris.csrf });
    assert.equal(fixed.status, 422);
    assert.match(await fixed.text(), /role="alert">&#39;head&#39; is a fixed service: it does not scale</);

    const jon = await login('jon', 'jon-password-1');
    const theirs = await post(`/deployments/${id}/autoscale/worker/pause`, jon.session, { csrf: jon.csrf });
    assert.equal(theirs.status, 404);
    assert.doesNotMatch(await theirs.text(), /data-policy/);
    assert.equal(g.service.autoscale.show(`iris@${t.host}`, id)[0]!.paused, false, "jon's post paused nothing");
  });
});
