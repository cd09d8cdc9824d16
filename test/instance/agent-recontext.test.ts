import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import type { Agent } from '../../core/index.js';
import { Recontextualize, InstanceStatus } from '../../protocols/instance.js';
import type { InstanceAgent } from '../../agents/instance/index.js';
import {
  cloudgateFor,
  startInstance,
  startServer,
  suiteCleanup,
  tempDir,
  testGateway,
  waitFor,
  type TestGateway,
} from './agent-helpers.js';

const summary = (results: any[]) => results.map((r) => `${r.plugin}${r.phase ? `:${r.phase}` : ''}=${r.status}`);

const context = (motd: string, after = 'echo "after ran with ROLE=$ROLE" >> "$CLOUDGATE_ROOT/after.log"') =>
  [
    '[amiconfig]',
    'plugins = environment files scripts',
    '[environment]',
    'ROLE = worker',
    '[files]',
    '/etc/motd =',
    `    ${motd}`,
    '/etc/app.conf =',
    '    threads = 4',
    '[scripts]',
    'after =',
    `    ${after}`,
    '',
  ].join('\n');

describe('instance agent: re-contextualization', () => {
  let t: TestServer;
  let gw: TestGateway;
  let mallory: Agent;
  let ia: InstanceAgent;
  let root: string;
  let file: string;
  const suite = suiteCleanup();
  const read = (p: string) => readFileSync(join(root, p), 'utf8');
  const recontext = (text: string, version: number) =>
    gw.agent.request(Recontextualize, ia.agent.jid, { context: text, version });
  const presenceAt = (v: number, phase = 'ready') =>
    waitFor(`presence v${v} ${phase}`, () =>
      gw.presences.find((p) => p.instance_id === 'vm-re' && p.context_version === v && p.phase === phase),
    );

  before(async () => {
    t = await startServer();
    gw = await testGateway(t);
    mallory = await makeAgent(t, 'mallory');
    await mallory.start();
    root = tempDir(suite);
    file = join(tempDir(suite), 'ctx.ini');
    writeFileSync(file, context('v1') + (await cloudgateFor(t, 'vm-re', { version: 1 })));
  });
  after(async () => {
    await suite.run();
    await Promise.all([gw?.agent.stop(), mallory?.stop()]);
    await t?.stop();
  });

  test('v1 at boot', async () => {
    ia = await startInstance(suite, { root, contextFile: file });
    await presenceAt(1);
    assert.equal(read('etc/motd'), 'v1\n');
    assert.equal(read('after.log'), 'after ran with ROLE=worker\n');
  });

  test('v1 → v2 applies only the difference and moves presence to v2', async () => {
    const r = await recontext(context('v2'), 2);
    assert.equal(r.ok, true);
    assert.equal(r.version, 2);
    assert.deepEqual(summary(r.results), [
      'scripts:before=unchanged',
      'environment=unchanged',
      'files=ok',
      'scripts:after=unchanged',
    ]);
    assert.equal(read('etc/motd'), 'v2\n');
    assert.equal(read('after.log'), 'after ran with ROLE=worker\n', 'the unchanged after-script did not run again');
    await presenceAt(2);
    const report = await waitFor('ContextReport v2', () =>
      gw.reports.find((x) => x.instance_id === 'vm-re' && x.version === 2),
    );
    assert.equal(report.ok, true);
    assert.equal(ia.life.contextVersion, 2);
  });

  test('an older version is refused (stale-version); a non-allowed JID is refused', async () => {
    await assert.rejects(
      recontext(context('v1'), 1),
      (e: any) => e.condition === 'conflict' && e.app === 'stale-version',
    );
    await assert.rejects(
      mallory.request(Recontextualize, ia.agent.jid, { context: context('evil'), version: 9 }),
      (e: any) => e.condition === 'not-authorized' && e.message.includes('mallory@'),
    );
    assert.equal(read('etc/motd'), 'v2\n');
  });

  test('a bad v3 (syntax, unknown plugin) changes nothing: still v2 and ready', async () => {
    const syntax = await recontext('[files]\nnot ini at all\n', 3);
    assert.deepEqual({ ok: syntax.ok, version: syntax.version }, { ok: false, version: 2 });
    assert.deepEqual(summary(syntax.results), ['context=data-error']);
    assert.match((syntax.results[0] as { message: string }).message, /line 2/);
    const unknown = await recontext(
      context('v3').replace('plugins = environment', 'plugins = frobnicate environment'),
      3,
    );
    assert.equal(unknown.ok, false);
    assert.ok(summary(unknown.results).includes('frobnicate=data-error'));
    assert.equal(read('etc/motd'), 'v2\n');
    assert.deepEqual({ phase: ia.life.phase, v: ia.life.contextVersion }, { phase: 'ready', v: 2 });
    await waitFor(
      'reports of the refused v3',
      () => gw.reports.filter((x) => x.instance_id === 'vm-re' && x.version === 3 && !x.ok).length === 2,
    );
  });

  test('a context for another instance is refused', async () => {
    const other = context('v3') + (await cloudgateFor(t, 'vm-other', { version: 3 }));
    await assert.rejects(
      recontext(other, 3),
      (e: any) => e.condition === 'bad-request' && e.app === 'identity' && /vm-other@/.test(e.message),
    );
  });

  test('a v3 whose script fails: phase failed at v3; v4 repairs it', async () => {
    const failing = await recontext(context('v3', 'echo broken >&2; exit 1'), 3);
    assert.equal(failing.ok, false);
    assert.deepEqual(summary(failing.results), [
      'scripts:before=unchanged',
      'environment=unchanged',
      'files=ok',
      'scripts:after=failed',
    ]);
    await presenceAt(3, 'failed');
    const fixed = await recontext(context('v4', 'echo "v4 after" >> "$CLOUDGATE_ROOT/after.log"'), 4);
    assert.equal(fixed.ok, true);
    await presenceAt(4, 'ready');
    assert.equal(read('etc/motd'), 'v4\n');
  });

  test('a newer [cloudgate] may change whom the instance obeys, never who it is', async () => {
    const text =
      context('v4', 'echo "v4 after" >> "$CLOUDGATE_ROOT/after.log"') +
      (await cloudgateFor(t, 'vm-re', { version: 5, allow: [`gateway@${t.host}`, `mallory@${t.host}`] }));
    const jid = ia.agent.jid;
    const r = await recontext(text, 5);
    assert.equal(r.ok, true);
    assert.deepEqual(
      summary(r.results).filter((x) => !x.endsWith('=unchanged')),
      [],
      'same plugins: nothing re-applied',
    );
    const s = await mallory.request(InstanceStatus, ia.agent.jid, {});
    assert.equal(s.context_version, 5);
    assert.equal(ia.agent.jid, jid);
  });

  test('a restarted agent keeps v5 although its user-data still says v1, and re-runs nothing', async () => {
    const log = read('after.log');
    await ia.stop();
    ia = await startInstance(suite, { root, contextFile: file });
    assert.equal(ia.located.source, 'saved');
    assert.equal(ia.life.contextVersion, 5);
    assert.ok(ia.identity.allows(`mallory@${t.host}`), 'whom it obeys came back with it');
    assert.ok(
      ia.bootReport.results.filter((r) => r.status !== 'disabled').every((r) => r.status === 'unchanged'),
      JSON.stringify(ia.bootReport.results),
    );
    assert.equal(read('etc/motd'), 'v4\n');
    assert.equal(read('after.log'), log);
  });
});
