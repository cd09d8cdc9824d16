/**
 * The contexts' and cluster definitions' web pages in a real browser (Debian's chromium
 * driven by playwright-core) against a real ejabberd and gateway, on a phone and a desktop
 * screen: an INI error at its line, two versions side by side, visibility, clone by another
 * user, encryption and a wrong passphrase; a cluster definition written in the form (rows
 * added and removed in place, problems next to their fields) and then listed by the HTTP
 * API with the very INI the page shows, then deployed with its encrypted context on a
 * local cloud; and the form without a script.
 * Screenshots go to docs/web-<screen>-<page>.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import type { CloudAgent } from '../../agents/cloud/index.js';
import type { Gateway } from '../../agents/gateway/index.js';
import { parseCluster } from '../../agents/gateway/model/index.js';
import { CONTEXT, startGateway, until } from '../gateway/harness.js';
import { running, startCloud, startServer } from '../gateway/e2e-setup.js';
import { fitsWidth, SCREENS, shot } from './screens.js';

const PASSWORD = 'ctx-password-1';
const OTHER_PASSWORD = 'ctx-password-2';
const SCRIPT_NAME = '<script>alert(1)</script>';
const BAD_INI = '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = a\nnot a key value line\n';
const V2 =
  '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = <script>alert(3)</script>\nEXTRA = yes\n\n[motd]\ntext = hi\n';
const PASSPHRASE = 'correct horse battery staple';

describe('contexts and cluster definitions in a real browser', { timeout: 600_000 }, () => {
  let t: Awaited<ReturnType<typeof startServer>>;
  let dir = '';
  let g: Gateway;
  let cloud: CloudAgent;
  let browser: Browser;
  let web = '';
  let owner = '';
  let other = '';

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-webctx-'));
    cloud = await startCloud(t, dir, {
      name: 'cloud-a',
      driver: 'local',
      gateway: `gateway@${t.host}`,
      users: `writer@${t.host}`,
    });
    g = await startGateway(t, {
      dir,
      clouds: [cloud.config.raw.xmpp.jid],
      http: { host: '127.0.0.1', port: 0 },
      settings: { heartbeatTimeoutMs: 30_000, readyTimeoutMs: 60_000 },
    });
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    await t.register('writer', PASSWORD);
    await t.register('reader', OTHER_PASSWORD);
    owner = `writer@${t.host}`;
    other = `reader@${t.host}`;
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

  /** A logged-in page, watching for dialogs (a script from user text) and CSP reports. */
  const open = async (
    viewport: { width: number; height: number },
    jid: string,
    password: string,
    o: { javaScriptEnabled?: boolean } = {},
  ) => {
    const ctx = await browser.newContext({ viewport, ...o });
    const page = await ctx.newPage();
    page.setDefaultTimeout(30_000);
    const dialogs: string[] = [];
    const violations: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${web}login`);
    await page.getByLabel(/XMPP account/).fill(jid);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/web\/$/);
    return { ctx, page, dialogs, violations };
  };
  /** Bytes of a page and its stylesheet and scripts, as the session's browser gets them. */
  const transfer = async (ctx: BrowserContext, path: string) => {
    const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const pageText = await (await fetch(new URL(path, web), { headers: { cookie } })).text();
    let bytes = Buffer.byteLength(pageText);
    for (const m of pageText.matchAll(/(?:href|src)="(\/web\/assets\/[^"]+)"/g))
      bytes += Buffer.byteLength(await (await fetch(new URL(m[1]!, web))).text());
    return bytes;
  };

  for (const screen of SCREENS) {
    test(`contexts: INI error at its line, versions side by side, visibility, clone, encryption at ${screen.width}x${screen.height}`, async () => {
      const name = `app-${screen.name}`;
      const viewport = { width: screen.width, height: screen.height };
      const me = await open(viewport, owner, PASSWORD);
      const { page } = me;
      let reader: Awaited<ReturnType<typeof open>> | undefined;
      try {
        // A new context with an INI error: the error is shown at its line; then saved fixed.
        await page.getByRole('link', { name: 'Contexts' }).click();
        await page.getByLabel(/^Name/).fill(name);
        await page.getByLabel('amiconfig INI').fill(BAD_INI);
        await page.getByRole('button', { name: 'Check and save' }).click();
        const bad = page.locator('#lines li.bad');
        await bad.first().waitFor();
        assert.deepEqual(await bad.evaluateAll((els) => els.map((e) => e.getAttribute('data-line'))), ['6']);
        assert.match(await bad.first().innerText(), /not a key value line.*expected "key = value"/);
        assert.equal(g.model.contexts.byName(owner, name), undefined, 'nothing saved');
        await page.getByLabel('amiconfig INI').fill(CONTEXT);
        await page.getByRole('button', { name: 'Check and save' }).click();
        await page
          .getByRole('status')
          .filter({ hasText: `Saved context ${name} version 1` })
          .waitFor();

        // Its page: a new version from the editor, with an error first, then saved.
        await page.locator('#contexts .ctx-name a', { hasText: new RegExp(`^${name}$`) }).click();
        await page.waitForURL(/\/web\/contexts\/[^/]+$/);
        const url = page.url();
        const id = decodeURIComponent(url.split('/').pop()!);
        assert.equal(await page.getByLabel('amiconfig INI of version 2').inputValue(), CONTEXT);
        await page.getByLabel('amiconfig INI of version 2').fill(`${V2}oops\n`);
        await page.getByRole('button', { name: 'Check and save new version' }).click();
        await page.locator('#lines li.bad[data-line="10"]').waitFor();
        assert.equal(g.model.contexts.require(id).latest, 1);
        await page.getByLabel('amiconfig INI of version 2').fill(V2);
        await page.getByRole('button', { name: 'Check and save new version' }).click();
        await page.getByRole('status').filter({ hasText: 'Saved version 2.' }).waitFor();

        // Versions 1 and 2 side by side, the changed lines marked, user text as text.
        const left = page.locator('#v-left');
        const right = page.locator('#v-right');
        assert.match(await left.innerText(), /ROLE = test/);
        assert.match(await right.innerText(), /ROLE = <script>alert\(3\)<\/script>/);
        assert.deepEqual(await page.locator('#v-left li.del').allInnerTexts(), ['ROLE = test']);
        const added = (await page.locator('#v-right li.add').allInnerTexts()).map((x) => x.trim()).filter(Boolean);
        assert.deepEqual(added, ['ROLE = <script>alert(3)</script>', 'EXTRA = yes', '[motd]', 'text = hi']);
        // What may still be fine is saved, with a warning at its line.
        assert.match(await page.locator('#warnings').innerText(), /line 8: \[motd\] section not applied/);
        const a = (await page.locator('.pane').nth(0).boundingBox())!;
        const b = (await page.locator('.pane').nth(1).boundingBox())!;
        if (screen.width >= 1000) assert.ok(b.x >= a.x + a.width - 1 && Math.abs(b.y - a.y) < 2, 'next to each other');
        else assert.ok(b.y >= a.y + a.height - 1, 'stacked on a phone');
        assert.equal(await page.locator('main script').count(), 0, 'no element made from user text');
        await fitsWidth(page, screen.width);
        await shot(page, screen.name, 'context');

        // Choosing the versions to compare: 2 against 2 marks nothing.
        await page.getByLabel('Left version').selectOption('2');
        await page.getByRole('button', { name: 'Show side by side' }).click();
        await page.waitForURL(/\?a=2&b=2$/);
        assert.equal(await page.locator('#side-by-side mark').count(), 0);

        // Visibility: public, so another user lists it and clones it into their own.
        await page.getByRole('button', { name: 'Make it public' }).click();
        await page.getByRole('status').filter({ hasText: 'The context is now public.' }).waitFor();
        assert.equal(await page.locator('#visibility').innerText(), 'public');
        reader = await open(viewport, other, OTHER_PASSWORD);
        await reader.page.getByRole('link', { name: 'Contexts' }).click();
        await reader.page.locator('#contexts .ctx-name a', { hasText: new RegExp(`^${name}$`) }).click();
        assert.equal(await reader.page.getByRole('button', { name: /Make it/ }).count(), 0, 'only the owner');
        assert.equal(await reader.page.getByRole('button', { name: 'Check and save new version' }).count(), 0);
        await reader.page.getByLabel(/Name of your copy/).fill(`${name}-mine`);
        await reader.page.getByRole('button', { name: 'Clone into my contexts' }).click();
        await reader.page.waitForURL((u) => u.toString() !== url && /\/web\/contexts\/[^/?]+$/.test(u.toString()));
        const copy = g.model.contexts.byName(other, `${name}-mine`);
        assert.ok(copy, 'the clone is the reader’s');
        assert.equal(g.model.contexts.versions(copy.id)[0]!.parent?.contextId, id);
        assert.match(await reader.page.locator('#v-right').innerText(), /EXTRA = yes/);
        await reader.page.getByRole('link', { name: id }).waitFor();
        // Cloning again under the same name is refused with a message, not an error page.
        await reader.page.getByLabel(/Name of your copy/).fill(`${name}-mine`);
        await reader.page.getByRole('button', { name: 'Clone into my contexts' }).click();
        await reader.page
          .getByRole('alert')
          .filter({ hasText: `already has a context named '${name}-mine'` })
          .waitFor();

        // Private again: the reader no longer lists it.
        await page.getByRole('button', { name: 'Make it private' }).click();
        await page.getByRole('status').filter({ hasText: 'The context is now private.' }).waitFor();
        await reader.page.goto(`${web}contexts`);
        assert.equal(await reader.page.locator('#contexts .ctx-name', { hasText: new RegExp(`^${name}$`) }).count(), 0);

        // Encrypt: a new version 3; it shows only with its passphrase, a wrong one says so.
        await page.getByLabel('New passphrase', { exact: true }).fill(PASSPHRASE);
        await page.getByLabel('Repeat the new passphrase').fill(`${PASSPHRASE}!`);
        await page.getByRole('button', { name: 'Encrypt as a new version' }).click();
        await page.getByRole('alert').filter({ hasText: 'the new passphrase and its repetition differ' }).waitFor();
        assert.equal(g.model.contexts.require(id).latest, 2);
        await page.getByLabel('New passphrase', { exact: true }).fill(PASSPHRASE);
        await page.getByLabel('Repeat the new passphrase').fill(PASSPHRASE);
        await page.getByRole('button', { name: 'Encrypt as a new version' }).click();
        await page.getByRole('status').filter({ hasText: 'Saved version 3, encrypted.' }).waitFor();
        assert.equal(g.model.contexts.version(id, 3)!.content.type, 'encrypted');
        assert.match(await page.locator('.pane').nth(1).innerText(), /Version 3 is encrypted/);
        await page.getByLabel(/Passphrase to decrypt/).fill('not the passphrase');
        await page.getByRole('button', { name: 'Decrypt and show' }).click();
        await page.getByRole('alert').filter({ hasText: 'Wrong passphrase for version 3' }).waitFor();
        assert.equal(await page.locator('#v-right').count(), 0, 'nothing decrypted is shown');
        await shot(page, screen.name, 'context-wrong-passphrase');
        await page.getByLabel(/Passphrase to decrypt/).fill(PASSPHRASE);
        await page.getByRole('button', { name: 'Decrypt and show' }).click();
        await page.locator('#v-right', { hasText: 'EXTRA = yes' }).waitFor();
        assert.equal(await page.getByRole('alert').count(), 0);
        assert.ok(!(await page.content()).includes(PASSPHRASE), 'the passphrase is not written into the page');
        await fitsWidth(page, screen.width);

        assert.ok((await transfer(me.ctx, url)) < 100_000, 'the page is under 100 KB');
        for (const x of [me, reader]) {
          assert.deepEqual(x.dialogs, [], 'no script ran from user content');
          assert.deepEqual(x.violations, [], 'nothing broke the Content-Security-Policy');
        }
      } finally {
        await reader?.ctx.close();
        await me.ctx.close();
      }
    });

    test(`cluster definitions: form with rows added and removed, problems at their fields, INI view at ${screen.width}x${screen.height}`, async () => {
      const name = `web-${screen.name}`;
      const me = await open({ width: screen.width, height: screen.height }, owner, PASSWORD);
      const { page } = me;
      try {
        const stored = g.model.clusters.list(owner).length;
        await page.getByRole('link', { name: 'Clusters' }).click();
        await page.getByRole('link', { name: 'New cluster definition' }).click();
        assert.equal(await page.locator('#rows fieldset').count(), 2);
        await page.getByLabel('Cluster name').fill(SCRIPT_NAME);
        await page.locator('#s0-name').fill('head');
        await page.locator('#s0-order').fill('1');
        await page.locator('#s0-flavor').fill('small');
        await page.locator('#s0-image').fill('test-image');
        await page.locator('#s0-context').fill(`app-${screen.name}`);
        await page.locator('#s1-name').fill('worker');
        assert.equal(await page.locator('#s1-type').inputValue(), 'scalable');
        await page.locator('#s1-depends').fill('head');
        await page.locator('#s1-min').fill('1');
        await page.locator('#s1-initial').fill('1');
        await page.locator('#s1-flavor').fill('cores:1,memory:512');
        await page.locator('#s1-image').fill('test-image');
        await page.locator('#s1-clouds').fill('cloud-a cloud-b');

        // A row added by keyboard, in place (no navigation), focused; then removed again.
        let navigations = 0;
        page.on('framenavigated', (f) => {
          if (f === page.mainFrame()) navigations++;
        });
        await page.locator('#add-row').focus();
        await page.keyboard.press('Enter');
        await page.locator('#rows fieldset').nth(2).waitFor();
        assert.equal(await page.evaluate(() => document.activeElement?.id), 's2-name');
        await page.keyboard.type('extra');
        await page.locator('#s2-image').fill('test-image');
        await page.locator('fieldset[data-row="2"]').getByRole('button', { name: 'Remove this service' }).click();
        assert.equal(await page.locator('#rows fieldset').count(), 2);
        assert.equal(navigations, 0, 'rows change without a reload');

        // Saved with two problems: each shown next to its field, the form as it was.
        await page.getByRole('button', { name: 'Save definition' }).click();
        await page.locator('#err-name').waitFor();
        assert.match(await page.locator('#err-name').innerText(), /'<script>alert\(1\)<\/script>' does not match/);
        assert.match(await page.locator('[id="err-s1.max"]').innerText(), /missing required key/);
        assert.equal(await page.getByLabel('Cluster name').inputValue(), SCRIPT_NAME);
        assert.equal(await page.locator('#s1-clouds').inputValue(), 'cloud-a cloud-b');
        assert.equal(await page.locator('#rows fieldset').count(), 2, 'the removed row stays removed');
        assert.equal(await page.getByLabel('Cluster name').getAttribute('aria-invalid'), 'true');
        assert.equal(await page.locator('main script:not([src^="/web/assets/clusters.js?v="])').count(), 0);
        assert.equal(g.model.clusters.list(owner).length, stored, 'nothing saved');
        await fitsWidth(page, screen.width);
        await shot(page, screen.name, 'cluster-errors');

        await page.getByLabel('Cluster name').fill(name);
        await page.locator('#s1-max').fill('3');
        await page.getByRole('button', { name: 'Save definition' }).click();
        await page.waitForURL(new RegExp(`/web/clusters/${name}/ini\\?saved$`));
        const ini = await page.locator('#ini').innerText();
        await fitsWidth(page, screen.width);
        await shot(page, screen.name, 'cluster-ini');

        // The HTTP API lists the same definition, with the INI the page shows.
        const l = await fetch(new URL('/api/v1/login', web), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: owner, password: PASSWORD }),
        });
        const { access_token } = (await l.json()) as { access_token: string };
        const auth = { authorization: `Bearer ${access_token}` };
        const list = (await (await fetch(new URL('/api/v1/clusters', web), { headers: auth })).json()) as {
          clusters: { name: string; services: string[] }[];
        };
        assert.deepEqual(list.clusters.find((c) => c.name === name)?.services, ['head', 'worker']);
        const one = (await (await fetch(new URL(`/api/v1/clusters/${name}`, web), { headers: auth })).json()) as {
          definition: string;
        };
        assert.equal(one.definition.trim(), ini.trim());
        const def = parseCluster(one.definition);
        const worker = def.services.find((s) => s.name === 'worker')!;
        assert.deepEqual(
          { type: worker.type, depends: worker.depends, clouds: worker.clouds, flavor: worker.flavor },
          {
            type: 'scalable',
            depends: ['head'],
            clouds: ['cloud-a', 'cloud-b'],
            flavor: { type: 'custom', cores: 1, memoryMb: 512 },
          },
        );
        assert.deepEqual(def.services.find((s) => s.name === 'head')!.context, { ref: `app-${screen.name}` });

        // Edit: the form comes back filled in; a change is saved over the same definition.
        await page.getByRole('link', { name: 'All definitions' }).click();
        await page.locator(`tr[data-cluster="${name}"]`).getByRole('link', { name: 'Edit' }).click();
        assert.equal(await page.locator('#s1-max').inputValue(), '3');
        await page.locator('#s1-max').fill('5');
        await page.locator('#s1-max').press('Enter');
        await page.waitForURL(new RegExp(`/web/clusters/${name}/ini\\?saved$`));
        assert.match(await page.locator('#ini').innerText(), /max = 5/);
        const rec = g.model.clusters.get(owner, name)!;
        assert.equal((rec.definition.services[1] as { max: number }).max, 5);

        // The deploy form offers it.
        await page.getByRole('link', { name: 'Deploy', exact: true }).click();
        assert.equal(await page.locator(`#pick-cluster option[value="${name}"]`).count(), 1);
        await page.goto(`${web}clusters`);
        await fitsWidth(page, screen.width);
        await shot(page, screen.name, 'clusters');
        await page.goto(`${web}clusters/new`);
        await shot(page, screen.name, 'cluster-form');
        assert.ok((await transfer(me.ctx, `${web}clusters/${name}/edit`)) < 100_000, 'the form is under 100 KB');
        assert.deepEqual(me.dialogs, [], 'no script ran from user content');
        assert.deepEqual(me.violations, [], 'nothing broke the Content-Security-Policy');
      } finally {
        await me.ctx.close();
      }
    });
  }

  test('a definition written in the form deploys with its encrypted context and completes', async () => {
    const me = await open({ width: 1280, height: 800 }, owner, PASSWORD);
    const { page } = me;
    try {
      await page.goto(`${web}contexts`);
      await page.getByLabel(/^Name/).fill('sealed');
      await page.getByLabel('amiconfig INI').fill(CONTEXT);
      await page.getByLabel('Encrypt with passphrase').fill(PASSPHRASE);
      await page.getByRole('button', { name: 'Check and save' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved context sealed version 1' }).waitFor();

      await page.goto(`${web}clusters/new`);
      await page.getByLabel('Cluster name').fill('formed');
      await page.locator('#s0-name').fill('head');
      await page.locator('#s0-flavor').fill('small');
      await page.locator('#s0-image').fill('test-image');
      await page.locator('#s0-context').fill('sealed');
      await page.locator('#s1-name').fill('worker');
      await page.locator('#s1-depends').fill('head');
      await page.locator('#s1-min').fill('1');
      await page.locator('#s1-max').fill('2');
      await page.locator('#s1-flavor').fill('small');
      await page.locator('#s1-image').fill('test-image');
      await page.locator('#s1-clouds').fill('cloud-a');
      await page.getByRole('button', { name: 'Save definition' }).click();
      await page.waitForURL(/\/web\/clusters\/formed\/ini\?saved$/);

      await page.getByRole('link', { name: 'Deploy', exact: true }).click();
      await page.getByLabel('Cluster definition').selectOption('formed');
      await page.getByRole('button', { name: 'Choose' }).click();
      await page.waitForURL(/\/web\/deploy\?cluster=formed$/);
      await page.getByLabel(/Passphrase/).fill(PASSPHRASE);
      await page.getByRole('button', { name: 'Deploy formed' }).click();
      await page.waitForURL(/\/web\/deployments\/[^/]+$/);
      const id = decodeURIComponent(page.url().split('/').pop()!);
      await page
        .locator('#state', { hasText: 'completed' })
        .waitFor({ timeout: 180_000 })
        .catch((err: Error) => {
          throw new Error(
            `${err.message}\ndeployment is ${g.model.deployments.require(id).state}: ${g.model.events
              .list(id, {})
              .slice(-6)
              .map((e) => e.message)
              .join(' | ')}`,
          );
        });
      assert.deepEqual(
        g.model.instances
          .list(id)
          .map((i) => i.service)
          .sort(),
        ['head', 'worker'],
      );
      await page.getByRole('link', { name: /Destroy this deployment/ }).click();
      await page.getByRole('button', { name: /Destroy formed/ }).click();
      await page.locator('#state', { hasText: 'destroyed' }).waitFor({ timeout: 180_000 });
      await until('no instance left on the cloud', async () => (await running(cloud)).length === 0, 180_000, 200);
      assert.deepEqual(me.dialogs, []);
    } finally {
      await me.ctx.close();
    }
  });

  test('the cluster form works without a script: a row added and one removed by submitting', async () => {
    const me = await open({ width: 375, height: 812 }, owner, PASSWORD, { javaScriptEnabled: false });
    const { page } = me;
    try {
      await page.goto(`${web}clusters/new`);
      await page.getByLabel('Cluster name').fill('plain');
      await page.locator('#s0-name').fill('db');
      await page.locator('#s0-flavor').fill('medium');
      await page.locator('#s0-image').fill('test-image');
      await page.locator('#s1-name').fill('gone');
      await page.locator('#s1-max').fill('2');
      await page.locator('#s1-flavor').fill('small');
      await page.locator('#s1-image').fill('test-image');
      await page.getByRole('button', { name: 'Add another service row' }).click();
      await page.locator('#rows fieldset').nth(2).waitFor();
      assert.equal(await page.locator('#s0-name').inputValue(), 'db', 'the rows keep what was typed');
      await page.locator('#s2-name').fill('app');
      await page.locator('#s2-type').selectOption('scalable');
      await page.locator('#s2-depends').fill('db');
      await page.locator('#s2-max').fill('4');
      await page.locator('#s2-flavor').fill('small');
      await page.locator('#s2-image').fill('test-image');
      await page.getByLabel('Remove this service').nth(1).check();
      await page.getByRole('button', { name: 'Save definition' }).click();
      await page.waitForURL(/\/web\/clusters\/plain\/ini\?saved$/);
      const rec = g.model.clusters.get(owner, 'plain')!;
      assert.deepEqual(
        rec.definition.services.map((s) => `${s.name}:${s.type}`),
        ['db:fixed', 'app:scalable'],
      );
    } finally {
      await me.ctx.close();
    }
  });
});
