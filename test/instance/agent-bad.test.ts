import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../helpers/ejabberd.js';
import {
  cloudgateFor,
  startInstance,
  startServer,
  tempDir,
  testGateway,
  waitFor,
  type TestGateway,
} from './agent-helpers.js';

const summary = (results: any[]) => results.map((r) => `${r.plugin}${r.phase ? `:${r.phase}` : ''}=${r.status}`);

describe('instance agent: bad contexts are reported with the reason, nothing half-applied', () => {
  let t: TestServer;
  let gw: TestGateway;
  before(async () => {
    t = await startServer();
    gw = await testGateway(t);
  });
  after(async () => {
    await gw?.agent.stop();
    await t?.stop();
  });

  /** Boots an instance on `body` + [cloudgate]; resolves with its failed presence and report. */
  async function boot(
    tc: Parameters<typeof tempDir>[0],
    local: string,
    body: string,
    extra: Parameters<typeof startInstance>[1] = {},
  ) {
    const root = tempDir(tc);
    const file = join(tempDir(tc), 'ctx.ini');
    writeFileSync(file, body + (await cloudgateFor(t, local, { version: 2 })));
    const ia = await startInstance(tc, { root, contextFile: file, ...extra });
    const presence = await waitFor(`failed presence of ${local}`, () =>
      gw.presences.find((p) => p.instance_id === local && p.phase === 'failed'),
    );
    const report = await waitFor(`report of ${local}`, () => gw.reports.find((r) => r.instance_id === local));
    assert.equal(presence.ready, false);
    assert.equal(presence.context_version, 2);
    assert.equal(report.ok, false);
    assert.equal(report.version, 2);
    assert.equal(ia.life.phase, 'failed');
    return { root, report, ia };
  }

  test('syntax error: the agent still joins (its [cloudgate] is fine) and reports the line', async (tc) => {
    const { root, report } = await boot(
      tc,
      'vm-syntax',
      '[amiconfig]\nplugins = files\n[files]\n/etc/motd =\n    hi\nthis line is not ini\n',
    );
    assert.deepEqual(summary(report.results), ['context=data-error']);
    assert.match(report.results[0].message, /line 6 \[files\]: expected "key = value"/);
    assert.ok(!existsSync(join(root, 'etc/motd')), 'nothing applied');
  });

  test('unknown plugin: refused as a whole, the known plugins are not applied either', async (tc) => {
    const { root, report } = await boot(
      tc,
      'vm-unknown',
      '[amiconfig]\nplugins = files frobnicate\n[files]\n/etc/motd =\n    hi\n',
    );
    assert.deepEqual(summary(report.results), ['files=disabled', 'frobnicate=data-error']);
    assert.match(report.results[1].message, /unknown plugin "frobnicate"/);
    assert.match(report.results[0].message, /^not applied/);
    assert.ok(!existsSync(join(root, 'etc/motd')));
  });

  test('failing script: stops there, reports exit status and stderr, later plugins not applied', async (tc) => {
    const body =
      '[amiconfig]\nplugins = scripts files\n[scripts]\nbefore =\n    echo "disk not ready" >&2\n    exit 3\n[files]\n/etc/motd =\n    hi\n';
    const { root, report } = await boot(tc, 'vm-script', body);
    assert.deepEqual(summary(report.results), ['scripts:before=failed', 'files=disabled', 'scripts:after=disabled']);
    assert.match(report.results[0].message, /before script exited 3: disk not ready/);
    assert.match(report.results[1].message, /not applied: earlier plugin "scripts:before" failed/);
    assert.ok(!existsSync(join(root, 'etc/motd')));
  });

  test('operator plugins that do not load: reported as the reason, nothing applied', async (tc) => {
    const plugins = tempDir(tc);
    writeFileSync(join(plugins, 'broken.mjs'), 'export const name = "Bad Name"; export function apply() {}\n');
    const { root, report } = await boot(
      tc,
      'vm-plugin',
      '[amiconfig]\nplugins = files\n[files]\n/etc/motd =\n    hi\n',
      { pluginDirs: [plugins] },
    );
    assert.deepEqual(summary(report.results), ['context=failed']);
    assert.match(report.results[0].message, /broken\.mjs: must export a lower-case `name`/);
    assert.ok(!existsSync(join(root, 'etc/motd')));
  });
});
