/**
 * The marketplace page in a real browser (Debian's chromium through playwright-core)
 * against a real ejabberd, a cloud agent on the local driver (real instance agent
 * processes) and the gateway with its HTTP front and pairing: a second user searches
 * (words, +tag, -tag, pages), votes, clones, makes a pairing code a machine redeems,
 * deploys a published cluster and watches it complete; text from entries stays text, an
 * encrypted entry shows none of its content, and forms without the page's token are refused.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { CloudAgent } from '../../agents/cloud/index.js';
import type { Gateway } from '../../agents/gateway/index.js';
import { loadJwtKey, mintToken, type Agent } from '../../core/index.js';
import { gateway as gw } from '../../protocols/index.js';
import { makeAgent } from '../helpers/agents.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { listenLocal } from '../helpers/net.js';
import { INSTANCE_DOMAIN } from '../cloud/helpers.js';
import { clusterIni, startGateway, until } from '../gateway/harness.js';
import { startCloud, startServer } from '../gateway/e2e-setup.js';
import { fitsWidth } from './screens.js';

const SLOW = 180_000;
const PASSWORD = 'bob-web-password-1';
const WORKER = '[amiconfig]\nplugins = environment\n\n[environment]\nROLE = condor-worker\n';
const SECRET = '[amiconfig]\nplugins = environment\n\n[environment]\nTOKEN = s3cr3t-value-123\n';
const SCRIPT = '<script>alert(1)</script><img src=x onerror=alert(2)>';

describe('marketplace page in a real browser', { timeout: 600_000 }, () => {
  let t: TestServer;
  let dir: string;
  let cloud: CloudAgent;
  let g: Gateway;
  let alice: Agent;
  let browser: Browser;
  let web = '';
  let bob = '';
  let pairUrl = '';
  const ids: Record<string, string> = {};

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-web-market-'));
    bob = `bob@${t.host}`;
    await t.register('bob', PASSWORD);
    cloud = await startCloud(t, dir, { name: 'cloud-a', driver: 'local', gateway: `gateway@${t.host}`, users: bob });
    const key = await loadJwtKey(t.server.info.hostJwtKeyFiles[INSTANCE_DOMAIN]!);
    const probe = createServer();
    const port = await listenLocal(probe);
    await new Promise((r) => probe.close(r));
    pairUrl = `http://127.0.0.1:${port}/pair`;
    g = await startGateway(t, {
      dir,
      clouds: [cloud.config.raw.xmpp.jid],
      http: { host: '127.0.0.1', port: 0 },
      settings: { heartbeatTimeoutMs: 30_000, readyTimeoutMs: 60_000 },
      pairing: {
        mint: (jid) => mintToken(key, jid, 3600),
        httpPort: port,
        domain: INSTANCE_DOMAIN,
        server: `${t.server.info.ip}:${t.server.info.c2sPort}`,
        ca: t.ca,
      },
    });
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    web = g.http!.webUrl;

    // Alice publishes; bob uses the page.
    alice = await makeAgent(t, 'alice');
    await alice.start();
    const put = (name: string, body: string, passphrase?: string) =>
      alice.request(gw.PutContext, g.agent.jid, { name, body, visibility: undefined, passphrase });
    const publish = async (what: { context?: string; cluster?: string }, summary: string, tags: string[]) =>
      (
        await alice.request(gw.Publish, g.agent.jid, {
          ...what,
          summary,
          description: undefined,
          tags,
        })
      ).entry.id;
    for (let i = 1; i <= 10; i++) {
      await put(`filler-${i}`, WORKER);
      ids[`filler-${i}`] = await publish({ context: `filler-${i}` }, `Filler number ${i}`, ['filler']);
    }
    await put('condor-worker', WORKER);
    await put('vault', SECRET, 'correct horse battery');
    await alice.request(gw.PutCluster, g.agent.jid, {
      definition: clusterIni({ name: 'pool', initial: 1, max: 2 }),
    });
    ids.worker = await publish({ context: 'condor-worker' }, 'HTCondor worker node', ['batch', 'htcondor']);
    ids.vault = await publish({ context: 'vault' }, `A node with a token ${SCRIPT}`, ['batch']);
    ids.pool = await publish({ cluster: 'pool' }, 'A small pool: one head, scalable workers', ['batch', 'cluster']);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await alice?.stop().catch(() => {});
    await g?.stop().catch(() => {});
    await cloud?.stop().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const names = (page: Page) =>
    page.locator('#entries article h2').evaluateAll((hs) => hs.map((h) => h.firstChild!.textContent!.trim()));
  /** Clicks a form's button and waits for the page the answer loads. */
  const submit = async (page: Page, button: Locator) => {
    await Promise.all([page.waitForEvent('framenavigated'), button.click()]);
    await page.waitForLoadState();
  };
  const search = async (page: Page, q: string) => {
    await page.getByLabel(/^Search/).fill(q);
    await submit(page, page.getByRole('button', { name: 'Search' }));
    assert.equal(new URL(page.url()).searchParams.get('q'), q);
  };
  const entry = (page: Page, id: string) => page.locator(`article[data-entry="${id}"]`);

  test('search, page, vote, clone, pair and deploy from the marketplace page', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
    });
    page.setDefaultTimeout(30_000);
    try {
      await page.goto(`${web}market`);
      assert.match(page.url(), /\/web\/login$/, 'the page needs a login');
      await page.getByLabel(/XMPP account/).fill(bob);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/web\/$/);
      await page.getByRole('link', { name: 'Marketplace' }).click();
      await page.waitForURL(/\/web\/market$/);

      // Everything, newest first at equal rank, ten to a page.
      assert.equal(await page.locator('#found').innerText(), '13 entries, by rank then newest.');
      assert.deepEqual((await names(page)).slice(0, 3), ['pool', 'vault', 'condor-worker']);
      assert.equal((await names(page)).length, 10);
      await submit(page, page.getByRole('link', { name: /Next/ }));
      assert.equal(new URL(page.url()).searchParams.get('page'), '2');
      assert.deepEqual(await names(page), ['filler-3', 'filler-2', 'filler-1']);
      assert.match(await page.locator('nav.pages').innerText(), /Page 2 of 2/);

      // Words, +tag, -tag.
      await search(page, 'condor');
      assert.deepEqual(await names(page), ['condor-worker']);
      await search(page, '+batch -htcondor');
      assert.deepEqual(await names(page), ['pool', 'vault']);
      await search(page, '+filler -nothing number');
      assert.equal((await names(page)).length, 10);
      assert.equal(await page.locator('nav.pages').count(), 0, 'ten fit on one page');
      await search(page, '+Bad!Tag');
      assert.match(await page.getByRole('alert').innerText(), /tag 'bad!tag'/);

      // Entry text is text: no script ran, no element was made from it; an encrypted entry shows no content.
      await search(page, '+batch');
      assert.match(await entry(page, ids.vault!).locator('.summary').innerText(), /<script>alert\(1\)<\/script>/);
      assert.equal(await page.locator('main script, main img').count(), 0);
      assert.match(await entry(page, ids.vault!).innerText(), /cannot be paired/);
      assert.equal(
        await entry(page, ids.vault!)
          .getByRole('button', { name: /Pairing code/ })
          .count(),
        0,
      );
      assert.doesNotMatch(await page.content(), /s3cr3t|TOKEN =|amiconfig/);

      // Votes: one per user, changeable; the rank orders the results.
      await submit(page, entry(page, ids.worker!).getByRole('button', { name: 'Vote condor-worker up' }));
      assert.equal(await entry(page, ids.worker!).locator('.rank').innerText(), '1');
      assert.deepEqual(await names(page), ['condor-worker', 'pool', 'vault'], 'ranked first now');
      await submit(page, entry(page, ids.worker!).getByRole('button', { name: 'Vote condor-worker up' }));
      assert.match(await entry(page, ids.worker!).locator('.meta').innerText(), /rank 1 \(1 vote\)/);
      await submit(page, entry(page, ids.worker!).getByRole('button', { name: 'Vote condor-worker down' }));
      assert.equal(await entry(page, ids.worker!).locator('.rank').innerText(), '-1');
      assert.equal((await names(page)).at(-1), 'condor-worker');
      await submit(page, entry(page, ids.worker!).getByRole('button', { name: /Clear my vote/ }));
      assert.match(await entry(page, ids.worker!).locator('.meta').innerText(), /rank 0 \(0 votes\)/);

      // Clone into one's own contexts, under a new name.
      await entry(page, ids.worker!).getByLabel('name').fill('my-worker');
      await submit(page, entry(page, ids.worker!).getByRole('button', { name: 'Clone condor-worker' }));
      await page.getByRole('status').filter({ hasText: 'into your context my-worker' }).waitFor();
      assert.equal(g.model.contexts.byName(bob, 'my-worker')?.latest, 1);

      // A pairing code a machine redeems for the published version.
      await submit(page, entry(page, ids.worker!).getByRole('button', { name: 'Pairing code for condor-worker' }));
      const code = await page.locator('#pairing code.code').innerText();
      assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
      const r = await fetch(pairUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      assert.equal(r.status, 200);
      assert.match(((await r.json()) as { context: string }).context, /ROLE = condor-worker/);

      // A form without the page's token changes nothing.
      const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      const forged = await fetch(`${web}market/${ids.worker}/vote`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'value=up',
      });
      assert.equal(forged.status, 403);
      assert.equal(g.market.get(ids.worker!)?.votes, 0);

      // A bad count is named on the page; then deploy the published cluster and watch it complete.
      await search(page, '+cluster');
      await entry(page, ids.pool!)
        .getByLabel(/Counts/)
        .fill('worker=lots');
      await submit(page, entry(page, ids.pool!).getByRole('button', { name: 'Deploy pool' }));
      assert.match(await page.getByRole('alert').innerText(), /counts: "worker=lots" is not service=number/);
      await entry(page, ids.pool!)
        .getByLabel(/Counts/)
        .fill('worker=1');
      await entry(page, ids.pool!).getByRole('button', { name: 'Deploy pool' }).click();
      await page.waitForURL(/\/web\/deployments\/[^/]+$/);
      const id = decodeURIComponent(page.url().split('/').pop()!);
      assert.equal(g.model.clusters.get(bob, 'pool')?.ini, clusterIni({ name: 'pool', initial: 1, max: 2 }));
      await page
        .locator('#state', { hasText: 'completed' })
        .waitFor({ timeout: SLOW })
        .catch((err: Error) => {
          throw new Error(
            `${err.message}\ndeployment is ${g.model.deployments.require(id).state}: ${g.model.events
              .list(id, {})
              .slice(-6)
              .map((e) => e.message)
              .join(' | ')}`,
          );
        });
      assert.equal(await page.locator('#instances tbody tr').count(), 2);

      assert.deepEqual(dialogs, [], 'no script ran from entry text');
      assert.deepEqual(violations, [], 'nothing broke the Content-Security-Policy');
    } finally {
      await ctx.close();
    }
  });

  test('on a phone screen the marketplace fits the width', async () => {
    const ctx = await browser.newContext({ viewport: { width: 375, height: 812 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(30_000);
    try {
      await page.goto(`${web}login`);
      await page.getByLabel(/XMPP account/).fill(bob);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/web\/$/);
      await page.goto(`${web}market?q=%2Bbatch`);
      assert.equal((await names(page)).length, 3);
      await fitsWidth(page, 375);
    } finally {
      await ctx.close();
    }
  });
});
