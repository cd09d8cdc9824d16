import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigInvalidError } from '../../core/index.js';
import { optionsFromFile, parseCustomMetrics } from '../../agents/instance/index.js';
import { tempDir } from './agent-helpers.js';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'agents', 'instance', 'example.ini');

test('the documented example configuration is valid', () => {
  const o = optionsFromFile(EXAMPLE);
  assert.equal(o.root, '/');
  assert.deepEqual(o.pluginDirs, []);
  assert.equal(o.pairCode, undefined);
});

test('instance INI: keys converted (durations, paths relative to the file), mistakes named with file, section and key', (tc) => {
  const dir = tempDir(tc);
  const file = join(dir, 'instance.ini');
  writeFileSync(
    file,
    '[instance]\nroot = scratch\nheartbeat_interval = 1m\npair_code = ABCD-EFGH-JKMN-PQRS\ngateway_url = http://127.0.0.1:9\n[log]\nlevel = silent\n',
  );
  const o = optionsFromFile(file);
  assert.equal(o.root, join(dir, 'scratch'));
  assert.equal(o.heartbeatIntervalS, 60);
  assert.equal(o.pairCode, 'ABCD-EFGH-JKMN-PQRS');
  writeFileSync(file, '[instance]\npair_cod = x\n');
  assert.throws(
    () => optionsFromFile(file),
    (e: unknown) =>
      e instanceof ConfigInvalidError &&
      e.message.includes(file) &&
      /\[instance\] pair_cod: unknown key \(did you mean 'pair_code'\?\)/.test(e.message),
  );
  writeFileSync(file, '[instance]\ngateway_url = ftp://x\n');
  assert.throws(() => optionsFromFile(file), /gateway_url/);
});

test('custom metrics file: name=number lines; anything else is dropped and counted', () => {
  const { values, bad } = parseCustomMetrics(
    '# comment\nqueue=3\n\nratio = -0.25\nbad name=1\nx=abc\nnoequals\ny=1e3\n',
  );
  assert.deepEqual({ ...values }, { queue: '3', ratio: '-0.25', y: '1e3' });
  assert.deepEqual(bad, [5, 6, 7]);
  const many = Array.from({ length: 120 }, (_, i) => `m${i}=${i}`).join('\n');
  assert.equal(Object.keys(parseCustomMetrics(many).values).length, 100);
});
