/**
 * The web pages in a real browser (Debian's chromium driven by playwright-core) against a
 * real ejabberd (the password checked by a SASL login), a cloud agent on the local driver
 * whose instances are real instance agent processes, and the gateway with its HTTP front:
 * log in, write contexts (one with an INI error, one named like a script), deploy, watch
 * it reach completed without a reload, scale, destroy; on a phone and a desktop screen.
 * Screenshots of each page go to docs/web-<screen>-<page>.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { CloudAgent } from '../../agents/cloud/index.js';
import type { Gateway } from '../../agents/gateway/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { CONTEXT, clusterIni, startGateway, until } from '../gateway/harness.js';
import { running, startCloud, startServer } from '../gateway/e2e-setup.js';
import { fitsWidth, SCREENS, shot } from './screens.js';

const SLOW = 180_000;
const PASSWORD = 'webber-password-1';
const ADMIN_PASSWORD = 'admin-password-1';
const SCRIPT_NAME = '<script>alert(1)</script>';
const BAD_INI =
  '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = <img src=x onerror=alert(2)>\nthis is bad\n';

describe('web pages in a real browser', { timeout: 900_000 }, () => {
  let t: TestServer;
  let dir: string;
  let cloud: CloudAgent;
  let g: Gateway;
  let browser: Browser;
  let web = '';
  let user = '';

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-web-'));
    cloud = await startCloud(t, dir, {
      name: 'cloud-a',
      driver: 'local',
      gateway: `gateway@${t.host}`,
      users: `webber@${t.host}`,
    });
    g = await startGateway(t, {
      dir,
      clouds: [cloud.config.raw.xmpp.jid],
      http: { host: '127.0.0.1', port: 0 },
      settings: { heartbeatTimeoutMs: 30_000, readyTimeoutMs: 60_000 },
    });
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    user = `webber@${t.host}`;
    await t.register('webber', PASSWORD);
    await t.register('admin', ADMIN_PASSWORD);
    web = g.http!.webUrl;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await g?.stop().catch(() => {});
    await cloud?.stop().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The cluster definition, stored through the HTTP API (the cluster form has its own test). */
  const storeCluster = async () => {
    const base = g.http!.url;
    const l = await fetch(`${base}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user, password: PASSWORD }),
    });
    const { access_token } = (await l.json()) as { access_token: string };
    const r = await fetch(`${base}/api/v1/clusters`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ definition: clusterIni({ name: 'webby', context: 'worker', initial: 1, max: 3 }) }),
    });
    assert.equal(r.status, 200, await r.text());
  };

  for (const screen of SCREENS) {
    test(`log in, contexts, deploy, watch, scale, destroy, log out at ${screen.width}x${screen.height}`, async () => {
      const ctx = await browser.newContext({ viewport: { width: screen.width, height: screen.height } });
      const page = await ctx.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const violations: string[] = [];
      const consoleLines: string[] = [];
      page.on('console', (m) => {
        consoleLines.push(m.text());
        if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
      });
      page.setDefaultTimeout(30_000);
      try {
        // Log in: a page needing a session sends the browser to the form.
        await page.goto(web);
        assert.match(page.url(), /\/web\/login$/);
        await shot(page, screen.name, 'login');
        await page.getByLabel('Password').fill('wrong-password');
        await page.getByLabel(/XMPP account/).fill(user);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.getByText('Wrong user name or password.').waitFor();
        await page.getByLabel(/XMPP account/).fill(user);
        await page.getByLabel('Password').fill(PASSWORD);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.waitForURL(/\/web\/$/);
        const cookie = (await ctx.cookies()).find((c) => c.name === 'cg_session');
        assert.ok(cookie, 'a session cookie');
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.sameSite, 'Strict');

        // Contexts: an INI error is shown at its line; a name like a script is text.
        await page.getByRole('link', { name: 'Contexts' }).click();
        await page.getByLabel(/^Name/).fill('broken');
        await page.getByLabel('amiconfig INI').fill(BAD_INI);
        await page.getByRole('button', { name: 'Check and save' }).click();
        const bad = page.locator('#lines li.bad');
        await bad.first().waitFor();
        assert.deepEqual(await bad.evaluateAll((els) => els.map((e) => e.getAttribute('data-line'))), ['6']);
        assert.match(await bad.first().innerText(), /this is bad.*expected "key = value"/);
        assert.match(await page.locator('#lines').innerText(), /ROLE = <img src=x onerror=alert\(2\)>/);
        await shot(page, screen.name, 'context-error');
        await page.getByLabel(/^Name/).fill(SCRIPT_NAME);
        await page.getByLabel('amiconfig INI').fill(CONTEXT);
        await page.getByRole('button', { name: 'Check and save' }).click();
        // Such a name is refused, and the refusal shows it as text (as the form's value too).
        await page
          .getByRole('alert')
          .filter({ hasText: `bad context name '${SCRIPT_NAME}'` })
          .waitFor();
        assert.equal(await page.getByLabel(/^Name/).inputValue(), SCRIPT_NAME);
        await page.getByLabel(/^Name/).fill('worker');
        await page.getByLabel('amiconfig INI').fill(CONTEXT);
        await page.getByRole('button', { name: 'Check and save' }).click();
        await page.locator('#contexts .ctx-name', { hasText: /^worker$/ }).waitFor();
        assert.equal(await page.locator('main script, main img').count(), 0, 'no element made from user text');
        await fitsWidth(page, screen.width);
        await shot(page, screen.name, 'contexts');

        // Deploy with a count per scalable service and watch it reach completed on the live page.
        await storeCluster();
        await page.getByRole('link', { name: 'Deploy', exact: true }).click();
        await page.getByLabel('Cluster definition').selectOption('webby');
        await page.getByRole('button', { name: 'Choose' }).click();
        const workers = page.getByLabel('worker instances (1..3)');
        assert.equal(await workers.inputValue(), '1', 'the initial count is the default');
        assert.equal(await page.getByLabel(/Passphrase/).count(), 0, 'no passphrase for plain contexts');
        await workers.fill('2');
        await shot(page, screen.name, 'deploy');
        await page.getByRole('button', { name: 'Deploy webby' }).click();
        await page.waitForURL(/\/web\/deployments\/[^/]+$/);
        const id = decodeURIComponent(page.url().split('/').pop()!);
        let navigations = 0;
        page.on('framenavigated', (f) => {
          if (f === page.mainFrame()) navigations++;
        });
        await page
          .locator('#state', { hasText: 'completed' })
          .waitFor({ timeout: SLOW })
          .catch((err: Error) => {
            throw new Error(
              `${err.message}\ndeployment is ${g.model.deployments.require(id).state}: ${g.model.events
                .list(id, {})
                .slice(-6)
                .map((e) => e.message)
                .join(' | ')}; console: ${consoleLines.join(' | ')}`,
            );
          });
        assert.equal(navigations, 0, 'completed arrived without a reload');
        assert.equal(await page.locator('#instances tbody tr').count(), 3, 'head and the two workers asked for');
        // Each instance's state and readiness are on screen, and its address is shown.
        for (const row of await page.locator('#instances tbody tr').all()) {
          for (const label of ['State', 'Readiness']) {
            const c = row.locator(`td[data-label="${label}"]`);
            assert.ok(await c.isVisible(), `${label} visible`);
            const b = (await c.boundingBox())!;
            assert.ok(
              b.x >= 0 && b.x + b.width <= screen.width,
              `${label} cell at ${b.x}+${b.width} on a ${screen.width} px screen`,
            );
          }
          assert.match(await row.locator('td[data-label="Address"]').innerText(), /127\.0\.0\.1/);
        }
        // The history is newest first, in compact times.
        const times = await page
          .locator('#events time')
          .evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime')!));
        assert.ok(times.length > 1);
        assert.deepEqual(times, [...times].sort().reverse());
        assert.match(await page.locator('#events time').first().innerText(), /^\d\d:\d\d:\d\d$|^[A-Z][a-z]{2} \d/);
        await fitsWidth(page, screen.width);
        await shot(page, screen.name, 'deployment');

        // Scale the scalable service and see the new instance arrive and become ready.
        await page.getByLabel(/count \(1\.\.3\)/).fill('3');
        await page.getByRole('button', { name: 'Scale' }).click();
        await page.waitForURL(new RegExp(`/web/deployments/${id}$`));
        navigations = 0;
        await until(
          'three workers ready',
          async () =>
            (await page
              .locator('#instances tbody tr')
              .evaluateAll(
                (rows) =>
                  rows.filter(
                    (r) =>
                      r.querySelector('[data-label="Service"]')?.textContent === 'worker' &&
                      r.querySelector('[data-label="Readiness"]')?.textContent === 'ready',
                  ).length,
              )) === 3,
          SLOW,
          200,
        ).catch(async (err: Error) => {
          throw new Error(
            `${err.message}: wanted ${g.model.wanted.get(id, 'worker')}, instances ${g.model.instances
              .list(id)
              .map((i) => `${i.name} ${i.state} ${i.ready}`)
              .join(', ')}; page: ${await page.locator('#instances').innerText()}`,
          );
        });
        assert.equal(navigations, 0);

        // The dashboard shows it with its services' progress.
        await page.getByRole('link', { name: 'Deployments' }).click();
        const row = page.locator(`tr[data-deployment="${id}"]`);
        await row.waitFor();
        assert.match(await row.innerText(), /completed/);
        assert.match(await row.innerText(), /worker.*3\/3/s);
        assert.equal(await row.getAttribute('data-attention'), null, 'nothing needs attention');
        await fitsWidth(page, screen.width);
        await shot(page, screen.name, 'dashboard');

        // Clouds: online, free room, and that this user may use it.
        await page.getByRole('link', { name: 'Clouds' }).click();
        const cloudRow = page.locator('#clouds tr[data-cloud="cloud-a"]');
        await cloudRow.waitFor();
        assert.match(await cloudRow.locator('[data-label="Status"]').innerText(), /^online$/);
        assert.match(await cloudRow.locator('[data-label="You may use it"]').innerText(), /^yes, up to \d+ instance/);
        assert.match(await cloudRow.locator('[data-label="Free instances"]').innerText(), /^\d+$/);
        await fitsWidth(page, screen.width);
        await shot(page, screen.name, 'clouds');

        // The admin view: refused to this user, shown to an admin with every user's deployments.
        const refused = await page.goto(`${web}admin`);
        assert.equal(refused?.status(), 403);
        await page.getByText("Only the gateway's admins see this page.").waitFor();
        assert.equal(await page.getByRole('link', { name: 'Admin' }).count(), 0);
        const adminCtx = await browser.newContext({ viewport: { width: screen.width, height: screen.height } });
        try {
          const ap = await adminCtx.newPage();
          ap.setDefaultTimeout(30_000);
          await ap.goto(`${web}login`);
          await ap.getByLabel(/XMPP account/).fill(`admin@${t.host}`);
          await ap.getByLabel('Password').fill(ADMIN_PASSWORD);
          await ap.getByRole('button', { name: 'Log in' }).click();
          await ap.waitForURL(/\/web\/$/);
          await ap.getByRole('link', { name: 'Admin' }).click();
          await ap.locator(`table[data-owner="${user}"] tr[data-deployment="${id}"]`).waitFor();
          // The gateway's count of this user's instances holding room on cloud-a (this run's, and any earlier one's).
          const holding = g.model.deployments
            .list({ owner: user })
            .flatMap((d) => g.model.instances.list(d.id))
            .filter((i) => ['requested', 'booting', 'running', 'draining', 'terminating'].includes(i.state)).length;
          assert.ok(holding >= 4);
          assert.match(
            await ap.locator('#quota tr[data-cloud="cloud-a"] [data-label="By owner"]').innerText(),
            new RegExp(`${user}: ${holding}`),
          );
          await fitsWidth(ap, screen.width);
          await shot(ap, screen.name, 'admin');
        } finally {
          await adminCtx.close();
        }
        await page.goto(web);

        // Destroy: the confirmation names what will be terminated.
        await row.getByRole('link').click();
        await page.getByRole('link', { name: /Destroy this deployment/ }).click();
        // The list is read once the confirmation page is there, not from the page before it.
        await page.waitForURL(new RegExp(`/web/deployments/${id}/destroy$`));
        await page.locator('#doomed li').first().waitFor();
        const names = g.model.instances
          .list(id)
          .filter((i) => i.state !== 'terminated')
          .map((i) => i.name);
        const doomed = await page.locator('#doomed li').allInnerTexts();
        assert.equal(doomed.length, names.length);
        for (const n of names)
          assert.ok(
            doomed.some((d) => d.startsWith(n)),
            `${n} listed in ${doomed.join(', ')}`,
          );
        await shot(page, screen.name, 'destroy');
        await page
          .getByRole('button', { name: new RegExp(`Destroy webby and terminate ${names.length} instance`) })
          .click();
        await page.waitForURL(new RegExp(`/web/deployments/${id}$`));
        navigations = 0;
        await page.locator('#state', { hasText: 'destroyed' }).waitFor({ timeout: SLOW });
        assert.equal(navigations, 0);
        await until(
          'no instance left on the cloud',
          async () =>
            (await running(cloud)).filter((i) => i.name.startsWith(id) || names.includes(i.name)).length === 0,
          SLOW,
          200,
        );

        // The API's docs page runs its script under the same policy (no inline script).
        await page.goto(`${g.http!.url}/api/docs`);
        await page.locator('#ops h2').first().waitFor();
        await page.goto(web);

        // Log out: the session is gone, the pages want a login again.
        await page.getByRole('button', { name: 'Log out' }).click();
        await page.waitForURL(/\/web\/login$/);
        await page.goto(`${web}deployments/${id}`);
        assert.match(page.url(), /\/web\/login$/);
        assert.deepEqual(dialogs, [], 'no script ran from user content');
        assert.deepEqual(violations, [], 'nothing broke the Content-Security-Policy');
      } finally {
        await ctx.close();
      }
    });
  }
});
