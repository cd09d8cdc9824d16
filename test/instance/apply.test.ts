import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { applyContext, readState, STATE_FILE, type ApplyReport } from '../../agents/instance/context/index.js';
import { tempRoot, read, serve } from './helpers.js';

const summary = (r: ApplyReport) => r.results.map((x) => `${x.plugin}${x.phase ? `:${x.phase}` : ''}=${x.status}`);

test('a syntax error is reported with its line, and nothing is applied', async (t) => {
  const root = tempRoot(t);
  const r = await applyContext('[environment]\nA = 1\nthis line is wrong\n', { root });
  assert.equal(r.ok, false);
  assert.deepEqual(summary(r), ['context=data-error']);
  assert.match(r.results[0].message!, /^line 3 \[environment\]: expected "key = value"/);
  assert.deepEqual(readdirSync(root), []);
});

test('an unknown plugin rejects the whole context, nothing applied, state untouched', async (t) => {
  const root = tempRoot(t);
  const r = await applyContext(
    '[amiconfig]\nplugins = environment frobnicate\n[environment]\nA = 1\n[frobnicate]\nx = 1\n',
    { root },
  );
  assert.deepEqual(summary(r), ['environment=disabled', 'frobnicate=data-error']);
  assert.equal(r.results[0].message, 'not applied: the context has errors');
  assert.match(
    r.results[1].message!,
    /line 2 \[amiconfig\] key "plugins": unknown plugin "frobnicate" \(known: environment, files, groups, hostname, scripts, users\)/,
  );
  assert.deepEqual(readdirSync(root), []);
});

test('sections not listed, unknown sections without plugins=, and an unrun preamble are reported as disabled', async (t) => {
  const root = tempRoot(t);
  const listed = await applyContext(
    'touch x\n[amiconfig]\nplugins = environment\n[environment]\nA = 1\n[hostname]\nname = a\n',
    { root },
  );
  assert.deepEqual(summary(listed), ['environment=ok', 'hostname=disabled', 'scripts:before=disabled']);
  assert.match(listed.results[2].message!, /preamble not run/);
  assert.equal(existsSync(join(root, 'x')), false);
  const implicit = await applyContext('[cernvm]\norganisations = ATLAS\n[environment]\nA = 1\n', { root: tempRoot(t) });
  assert.deepEqual(summary(implicit), ['environment=ok', 'cernvm=disabled']);
  assert.equal(implicit.ok, true);
});

test('a failing script stops the run; exactly what was applied is recorded', async (t) => {
  const root = tempRoot(t);
  const text = [
    '[cloudgate]',
    'jid = vm@example.org',
    'context_version = 1',
    '[amiconfig]',
    'plugins = environment scripts files hostname',
    '[environment]',
    'A = 1',
    '[scripts]',
    'after =',
    '    echo "cannot start app" >&2',
    '    exit 42',
    '[files]',
    '/etc/a =',
    '    a',
    '[hostname]',
    'name = h1',
  ].join('\n');
  const r = await applyContext(text, { root });
  assert.deepEqual(summary(r), [
    'scripts:before=ok',
    'environment=ok',
    'files=ok',
    'hostname=ok',
    'scripts:after=failed',
  ]);
  assert.match(r.results[4].message!, /exited 42: cannot start app/);
  const s = (await readState(root))!;
  assert.equal(s.complete, false);
  assert.deepEqual(Object.keys(s.steps).sort(), ['environment', 'files', 'hostname', 'scripts:before']);

  const early = await applyContext(text.replace('after =', 'before ='), { root: tempRoot(t) });
  assert.deepEqual(summary(early), [
    'scripts:before=failed',
    'environment=disabled',
    'files=disabled',
    'hostname=disabled',
    'scripts:after=disabled',
  ]);
  assert.equal(early.results[1].message, 'not applied: earlier plugin "scripts:before" failed');
  JSON.parse(JSON.stringify(early));
});

function context(version: number, motd: string, after: string): string {
  return [
    '[cloudgate]',
    'jid = vm@example.org',
    `context_version = ${version}`,
    '[amiconfig]',
    'plugins = environment files scripts',
    '[environment]',
    'STAGE = prod',
    '[files]',
    '/etc/motd =',
    `    ${motd}`,
    '/etc/fixed =',
    '    same',
    '[scripts]',
    'before =',
    '    echo before >> runs',
    'after =',
    `    echo "${after}" >> runs`,
  ].join('\n');
}

test('re-contextualization v1 -> v2 applies only what changed', async (t) => {
  const root = tempRoot(t);
  const v1 = await applyContext(context(1, 'hello', 'after-1'), { root });
  assert.equal(v1.ok, true, JSON.stringify(v1.results));
  assert.equal(read(root, 'runs'), 'before\nafter-1\n');

  const v2 = await applyContext(context(2, 'hello again', 'after-2'), { root });
  assert.equal(v2.version, 2);
  assert.deepEqual(summary(v2), ['scripts:before=unchanged', 'environment=unchanged', 'files=ok', 'scripts:after=ok']);
  assert.equal(v2.results[0].message, 'unchanged since version 1');
  assert.deepEqual(v2.results[2].detail?.written, ['/etc/motd']);
  assert.equal(read(root, 'runs'), 'before\nafter-1\nafter-2\n', 'before did not re-run; after did');
  assert.equal(read(root, 'etc/motd'), 'hello again\n');
  assert.deepEqual(v2.env, { STAGE: 'prod' }, 'env handed back even when environment was unchanged');

  const s = (await readState(root))!;
  assert.equal(s.version, 2);
  assert.equal(s.complete, true);
  assert.equal(s.steps.environment.version, 1);
  assert.equal(s.steps.files.version, 2);
  assert.ok(!read(root, STATE_FILE).includes('hello'), 'state holds hashes, not values');

  const same = await applyContext(context(2, 'hello again', 'after-2'), { root });
  assert.ok(same.results.every((x) => x.status === 'unchanged'));
  const forced = await applyContext(context(2, 'hello again', 'after-2'), { root, force: true });
  assert.ok(forced.results.every((x) => x.status === 'ok'));
});

test('re-contextualization uses `previous` when given, and retries only a step that failed', async (t) => {
  const root = tempRoot(t);
  let fail = true;
  const { url } = await serve(t, (_req, res) => {
    res.statusCode = fail ? 500 : 200;
    res.end('remote\n');
  });
  const text = `[amiconfig]\nplugins = environment files\n[environment]\nA = 1\n[files]\n/etc/r = ${url}/r\n`;
  const r1 = await applyContext(text, { root });
  assert.deepEqual(summary(r1), ['environment=ok', 'files=failed']);
  fail = false;
  const r2 = await applyContext(text, { root });
  assert.deepEqual(summary(r2), ['environment=unchanged', 'files=ok']);

  const elsewhere = tempRoot(t);
  const r3 = await applyContext(text, { root: elsewhere, previous: await readState(root) });
  assert.deepEqual(summary(r3), ['environment=unchanged', 'files=unchanged']);
  const r4 = await applyContext(text, { root: elsewhere, previous: null });
  assert.deepEqual(summary(r4), ['environment=ok', 'files=ok']);
});
