/**
 * scripts/deps-review.mjs: the project's own dependencies are all reviewed, and a new
 * dependency or a new install script that docs/dependencies.md does not name fails the
 * review, naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'scripts', 'deps-review.mjs');

function review(dir: string, ...args: string[]) {
  return spawnSync(process.execPath, [script, '--root', dir, ...args], { encoding: 'utf8' });
}

test('every direct dependency and install script of the project is reviewed', () => {
  const r = review(root, '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(out.deps.length, Object.keys(pkg.dependencies).length + Object.keys(pkg.devDependencies).length);
  assert.ok(out.installScripts.includes('better-sqlite3'), 'the native SQLite build is seen');
  assert.deepEqual(out.problems, []);
});

test('an unreviewed dependency with an install script fails the review, naming both', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-deps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'docs'));
  copyFileSync(join(root, 'docs', 'dependencies.md'), join(dir, 'docs', 'dependencies.md'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  pkg.dependencies['left-padder'] = '^1.0.0';
  lock.packages['node_modules/left-padder'] = {
    version: '1.0.0',
    license: 'MIT',
    dependencies: { 'post-installer': '^2.0.0' },
  };
  lock.packages['node_modules/post-installer'] = { version: '2.0.0', license: 'MIT', hasInstallScript: true };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
  const r = review(dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /left-padder: no row in docs\/dependencies\.md/);
  assert.match(r.stderr, /post-installer: runs an install script that docs\/dependencies\.md does not name/);

  assert.equal(review(dir, '--bogus').status, 2);
});
