/**
 * The pairing page in a real browser (chromium through playwright-core) against a real
 * ejabberd and gateway: create a code for a context, and see it claimed live (no reload)
 * when a real instance agent, started with that code, fetches its context from the
 * gateway's pairing endpoint. Screenshots go to docs/web-<screen>-pairing.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { Gateway } from '../../agents/gateway/index.js';
import { loadJwtKey, mintToken } from '../../core/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { startGateway } from '../gateway/harness.js';
import { INSTANCE_HOST, startInstance, startServer, suiteCleanup } from '../instance/agent-helpers.js';
import { closedPort } from '../instance/helpers.js';
import { fitsWidth, SCREENS, shot } from './screens.js';

const PASSWORD = 'pairer-password-1';
const BODY = '[amiconfig]\nplugins = files\n[files]\n/etc/motd =\n    paired from the web\n';

describe('pairing page in a real browser', { timeout: 600_000 }, () => {
  let t: TestServer;
  let dir = '';
  let g: Gateway;
  let browser: Browser;
  let pairUrl = '';
  const suite = suiteCleanup();
  const user = () => `pairer@${t.host}`;

  before(async () => {
    t = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'cgt-webpair-'));
    const key = await loadJwtKey(t.server.info.hostJwtKeyFiles[INSTANCE_HOST]!);
    const port = await closedPort();
    pairUrl = `http://127.0.0.1:${port}`;
    g = await startGateway(t, {
      dir,
      clouds: [],
      http: { host: '127.0.0.1', port: 0 },
      pairing: {
        mint: (jid) => mintToken(key, jid, 3600),
        httpPort: port,
        domain: INSTANCE_HOST,
        server: `${t.server.info.ip}:${t.server.info.c2sPort}`,
        ca: t.ca,
      },
    });
    await t.register('pairer', PASSWORD);
    g.model.users.add(user());
    g.model.contexts.create({ owner: user(), name: 'analysis', content: { type: 'plain', body: BODY } });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  });
  after(async () => {
    await suite.run();
    await browser?.close().catch(() => {});
    await g?.stop().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const screen of SCREENS) {
    test(`a code made on the page is claimed by a machine, live, at ${screen.width}x${screen.height}`, async () => {
      const ctx = await browser.newContext({ viewport: { width: screen.width, height: screen.height } });
      const page = await ctx.newPage();
      page.setDefaultTimeout(30_000);
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
      });
      try {
        await page.goto(g.http!.webUrl);
        await page.getByLabel(/XMPP account/).fill(user());
        await page.getByLabel('Password').fill(PASSWORD);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.waitForURL(/\/web\/$/);
        await page.getByRole('link', { name: 'Pairing' }).click();
        await page.getByLabel('Context').selectOption('analysis');
        await page.getByLabel(/Valid for/).fill('5');
        await page.getByRole('button', { name: 'Create pairing code' }).click();
        const code = (await page.locator('#code').innerText()).trim();
        assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
        const waiting = page.locator('#codes tbody tr').first();
        assert.match(await waiting.innerText(), /waiting for a machine/);

        let navigations = 0;
        page.on('framenavigated', (f) => {
          if (f === page.mainFrame()) navigations++;
        });
        const root = mkdtempSync(join(tmpdir(), 'cgt-webpair-ia-'));
        suite.after(() => rmSync(root, { recursive: true, force: true }));
        const ia = await startInstance(suite, { root, pairCode: code, gatewayUrl: pairUrl });
        assert.equal(ia.located.source, 'pairing');
        await page.locator('#codes tbody tr').first().locator('.status', { hasText: ia.identity.bare }).waitFor();
        assert.match(await page.locator('#codes tbody tr').first().innerText(), /claimed/);
        assert.equal(navigations, 0, 'the claim arrived without a reload');
        assert.equal(await page.locator('#code').innerText(), code, 'the code stays on the page');
        await fitsWidth(page, screen.width);
        await shot(page, screen.name, 'pairing');

        // A bad count of minutes is a clear message, not a failure.
        await page.getByLabel(/Valid for/).fill('0');
        await page.getByLabel(/Valid for/).evaluate((e) => e.removeAttribute('min'));
        await page.getByRole('button', { name: 'Create pairing code' }).click();
        await page.getByRole('alert').filter({ hasText: 'is not a whole number of minutes' }).waitFor();
        assert.deepEqual(violations, []);
      } finally {
        await ctx.close();
      }
    });
  }
});
