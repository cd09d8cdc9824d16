import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { applyContext, ENVIRONMENT_FILE } from '../../agents/instance/context/index.js';
import { tempRoot, read, mode, serve } from './helpers.js';

test('environment: shell-quoted profile.d file that sh can source, returned to the caller', async (t) => {
  const root = tempRoot(t);
  const text = '[environment]\nGREETING = it\'s "quoted" $HOME `x`\nMULTI =\n    line one\n    line two\n';
  const r = await applyContext(text, { root, previous: null });
  assert.equal(r.results[0].status, 'ok');
  assert.equal(r.results[0].changed, true);
  assert.deepEqual(r.env, { GREETING: 'it\'s "quoted" $HOME `x`', MULTI: 'line one\nline two' });
  const file = join(root, ENVIRONMENT_FILE);
  assert.equal(mode(root, ENVIRONMENT_FILE), 0o644);
  const out = execFileSync('/bin/sh', ['-c', `. "${file}"; printf '%s|%s' "$GREETING" "$MULTI"`], { encoding: 'utf8' });
  assert.equal(out, 'it\'s "quoted" $HOME `x`|line one\nline two');
  const again = await applyContext(text, { root, previous: null });
  assert.equal(again.results[0].changed, false);
});

test('environment: bad and reserved names are data errors', async (t) => {
  const root = tempRoot(t);
  const r = await applyContext('[environment]\n1BAD = x\nCLOUDGATE_ROOT = /\n', { root });
  assert.equal(r.results[0].status, 'data-error');
  assert.match(r.results[0].message!, /line 2 \[environment\] key "1BAD": not a valid variable name/);
  assert.match(r.results[0].message!, /line 3 \[environment\] key "CLOUDGATE_ROOT": reserved/);
});

test('files: inline and fetched content, mode and owner, atomic and idempotent', async (t) => {
  const root = tempRoot(t);
  const { url } = await serve(t, (req, res) => {
    if (req.url === '/app.conf') {
      res.end('fetched=1\n');
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  const text = [
    '[amiconfig]',
    'plugins = users files',
    '[users]',
    'alice = uid:1301',
    '[files]',
    '/etc/motd =',
    '    Welcome',
    '      indented',
    '/opt/app/run.sh = mode:0750 owner:alice',
    '    #!/bin/sh',
    '    exec true',
    `/etc/app.conf = ${url}/app.conf mode:0600`,
    '/etc/empty =',
  ].join('\n');
  const r = await applyContext(text, { root, previous: null });
  assert.equal(r.ok, true, JSON.stringify(r.results));
  assert.equal(read(root, 'etc/motd'), 'Welcome\n  indented\n');
  assert.equal(read(root, 'opt/app/run.sh'), '#!/bin/sh\nexec true\n');
  assert.equal(mode(root, 'opt/app/run.sh'), 0o750);
  if (process.getuid?.() === 0) {
    assert.equal(statSync(join(root, 'opt/app/run.sh')).uid, 1301);
    assert.equal(statSync(join(root, 'opt/app/run.sh')).gid, 1301);
  }
  assert.equal(read(root, 'etc/app.conf'), 'fetched=1\n');
  assert.equal(mode(root, 'etc/app.conf'), 0o600);
  assert.equal(read(root, 'etc/empty'), '');
  assert.deepEqual(r.results[1].detail?.written, ['/etc/motd', '/opt/app/run.sh', '/etc/app.conf', '/etc/empty']);

  const mtime = statSync(join(root, 'etc/motd')).mtimeMs;
  const again = await applyContext(text, { root, previous: null });
  assert.equal(again.results[1].changed, false, JSON.stringify(again.results[1]));
  assert.equal(statSync(join(root, 'etc/motd')).mtimeMs, mtime);
});

test('files: a failed download writes no file of the section', async (t) => {
  const root = tempRoot(t);
  const { url } = await serve(t, (_req, res) => {
    res.statusCode = 404;
    res.end('nope');
  });
  const r = await applyContext(`[files]\n/etc/a =\n    inline\n/etc/b = ${url}/missing\n`, { root });
  assert.equal(r.results[0].status, 'failed');
  assert.match(r.results[0].message!, /\/etc\/b: .* answered HTTP 404; no file written/);
  assert.equal(existsSync(join(root, 'etc/a')), false);
});

test('files: a slow server hits the fetch timeout', async (t) => {
  const root = tempRoot(t);
  const { url } = await serve(t, () => {
    /* never answers */
  });
  const started = Date.now();
  const r = await applyContext(`[files]\n/etc/b = ${url}/slow\n`, { root, fetchTimeoutMs: 150 });
  assert.equal(r.results[0].status, 'failed');
  assert.match(r.results[0].message!, /no answer within 150 ms/);
  assert.ok(Date.now() - started < 1500);
});

test('files: data errors are caught before anything is written', async (t) => {
  const root = tempRoot(t);
  const r = await applyContext(
    [
      '[amiconfig]',
      'plugins = files users',
      '[users]',
      'zed =',
      '[files]',
      '/etc/one = Hello world',
      '/etc/two = mode:999',
      'relative/path =',
      '/etc/three = https://',
      '/etc/four = owner:zed',
      '/etc/five = owner:nobody-here',
      '/etc/six = http://example.org/x',
      '    and inline',
    ].join('\n'),
    { root },
  );
  const files = r.results.find((x) => x.plugin === 'files')!;
  assert.equal(files.status, 'data-error');
  const p = files.detail!.problems as string[];
  assert.match(p[0], /line 6 \[files\] key "\/etc\/one": unexpected "Hello".*indented lines/);
  assert.match(p[1], /line 7 .*mode must be octal/);
  assert.match(p[2], /line 8 .*absolute file path/);
  assert.match(p[3], /line 9 .*malformed URL/);
  assert.match(p[4], /line 10 .*user "zed" is made by users, which must come before files/);
  assert.match(p[5], /line 11 .*unknown user "nobody-here"/);
  assert.match(p[6], /line 12 .*either a URL or inline content/);
  assert.equal(p.length, 7);
  assert.equal(r.results.find((x) => x.plugin === 'users')!.status, 'disabled');
  assert.equal(existsSync(join(root, 'etc')), false);
});

test('files: a symlink cannot lead a write out of root', async (t) => {
  const root = tempRoot(t);
  const outside = mkdtempSync(join(tmpdir(), 'cg-outside-'));
  t.after(() => rmSync(outside, { recursive: true, force: true }));
  symlinkSync(outside, join(root, 'opt'));
  const r = await applyContext('[files]\n/opt/app.conf =\n    pwned\n', { root });
  assert.equal(r.results[0].status, 'failed');
  assert.match(r.results[0].message!, /\/opt\/app.conf resolves outside root/);
  assert.equal(existsSync(join(outside, 'app.conf')), false);
});

test('hostname: /etc/hostname and one /etc/hosts line, idempotent, real host name untouched', async (t) => {
  const root = tempRoot(t);
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\told-name\n::1\tip6-localhost\n');
  const real = hostname();
  const text = '[hostname]\nname = worker-3.cluster.example.org\n';
  const r = await applyContext(text, { root, previous: null });
  assert.equal(r.results[0].status, 'ok');
  assert.equal(read(root, 'etc/hostname'), 'worker-3.cluster.example.org\n');
  assert.equal(
    read(root, 'etc/hosts'),
    '127.0.0.1\tlocalhost\n127.0.1.1\tworker-3.cluster.example.org worker-3\n::1\tip6-localhost\n',
  );
  const again = await applyContext(text, { root, previous: null });
  assert.equal(again.results[0].changed, false);
  assert.equal(hostname(), real);
  const bad = await applyContext('[hostname]\nname = -bad_name\naddress = 300.1.1.1\n', { root });
  assert.equal(bad.results[0].status, 'data-error');
  assert.match(bad.results[0].message!, /key "name": not a valid host name/);
  assert.match(bad.results[0].message!, /key "address": not an IP address/);
});
