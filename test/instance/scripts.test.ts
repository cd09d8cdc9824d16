import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { applyContext } from '../../agents/instance/context/index.js';
import { tempRoot, read } from './helpers.js';

test('scripts: preamble, before, other plugins, after — in that order, with the context environment', async (t) => {
  const root = tempRoot(t);
  const text = [
    '#!/bin/sh',
    'echo "preamble $(pwd)" >> "$CLOUDGATE_ROOT/log"',
    '[cloudgate]',
    'jid = vm@example.org',
    'context_version = 7',
    '[amiconfig]',
    'plugins = scripts environment files',
    '[environment]',
    "WHO = it's me",
    '[files]',
    '/marker =',
    '    written by files',
    '[scripts]',
    'before =',
    '    echo "before $WHO v$CLOUDGATE_CONTEXT_VERSION marker=$(test -e marker && echo yes || echo no)" >> log',
    'after =',
    '    echo "after marker=$(cat marker)" >> log',
  ].join('\n');
  const r = await applyContext(text, { root });
  assert.equal(r.ok, true, JSON.stringify(r.results));
  assert.deepEqual(
    r.results.map((x) => `${x.plugin}${x.phase ? `:${x.phase}` : ''}=${x.status}`),
    ['scripts:before=ok', 'environment=ok', 'files=ok', 'scripts:after=ok'],
  );
  assert.equal(read(root, 'log'), `preamble ${root}\nbefore it's me v7 marker=no\nafter marker=written by files\n`);
  assert.ok(existsSync(join(root, 'var/lib/cloudgate/scripts/before.sh')), 'script kept for inspection');
});

test('scripts: a failing script reports exit code and the tail of stderr', async (t) => {
  const root = tempRoot(t);
  const r = await applyContext('[scripts]\nbefore =\n    echo noise >&2\n    echo "disk full" >&2\n    exit 3\n', {
    root,
  });
  const s = r.results[0];
  assert.equal(s.status, 'failed');
  assert.equal(s.phase, 'before');
  assert.match(s.message!, /before script exited 3: noise \| disk full/);
  assert.equal(s.detail!.exitCode, 3);
  assert.deepEqual(s.detail!.stderrTail, ['noise', 'disk full']);
  assert.equal(r.ok, false);
});

test('scripts: a script past its timeout is killed with its children', async (t) => {
  const root = tempRoot(t);
  const started = Date.now();
  const r = await applyContext('[scripts]\nafter =\n    sleep 30 &\n    wait\n', { root, scriptTimeoutMs: 200 });
  assert.equal(r.results[1].status, 'failed');
  assert.match(r.results[1].message!, /after script timed out after 200 ms/);
  assert.ok(Date.now() - started < 1500);
});

test('scripts: a background daemon holding the output pipes does not hang the apply', async (t) => {
  const root = tempRoot(t);
  const started = Date.now();
  const r = await applyContext('[scripts]\nafter =\n    sleep 2 &\n    echo started\n', { root });
  assert.equal(r.results[1].status, 'ok', JSON.stringify(r.results));
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
});

test('scripts: unknown keys and bad timeout are data errors', async (t) => {
  const root = tempRoot(t);
  const r = await applyContext('[scripts]\nbefor = x\ntimeout = 0\n', { root });
  assert.equal(r.results[0].status, 'data-error');
  assert.match(r.results[0].message!, /line 2 \[scripts\] key "befor": unknown key/);
  assert.match(r.results[0].message!, /line 3 \[scripts\] key "timeout": expected whole seconds/);
});
