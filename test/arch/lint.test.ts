/**
 * The tree is formatted and linted as biome.json says: a change that is not formatted, or
 * that a lint rule refuses, fails here with the tool's own report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');

test('the sources are formatted and pass the linter', () => {
  const r = spawnSync(
    join(root, 'node_modules', '.bin', 'biome'),
    ['check', '--error-on-warnings', '--max-diagnostics=30', '.'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  assert.equal(r.error, undefined, `the formatter could not run: ${r.error?.message}`);
  assert.equal(r.status, 0, `npx biome check --write . fixes what it can:\n${r.stdout}\n${r.stderr}`);
});
