import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retryTransient, StateWriteError, writeDurably } from '../../agents/instance/context/index.js';

const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

test('retryTransient: EMFILE and friends are retried until the write succeeds', async () => {
  const seen: string[] = [];
  let calls = 0;
  await retryTransient(
    '/var/lib/cloudgate/context.json',
    async () => {
      calls++;
      if (calls === 1) throw errno('EMFILE');
      if (calls === 2) throw errno('ENFILE');
    },
    { baseMs: 1, onRetry: (err, attempt) => seen.push(`${err.code}#${attempt}`) },
  );
  assert.equal(calls, 3);
  assert.deepEqual(seen, ['EMFILE#1', 'ENFILE#2']);
});

test('retryTransient: a lasting transient error ends as StateWriteError with path, code and tries', async () => {
  let calls = 0;
  const err = await retryTransient(
    '/x/token.json',
    async () => {
      calls++;
      throw errno('EMFILE');
    },
    { attempts: 3, baseMs: 1 },
  ).catch((e: unknown) => e);
  assert.ok(err instanceof StateWriteError);
  assert.equal(err.code, 'CG_INSTANCE_STATE_WRITE');
  assert.equal(err.path, '/x/token.json');
  assert.equal(err.errno, 'EMFILE');
  assert.equal(calls, 3);
  assert.match(err.message, /could not write \/x\/token\.json \(EMFILE after 3 tries\)/);
});

test('writeDurably: a permanent error is not retried and names the path; a good path is written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-durable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const blocked = join(dir, 'state.json');
  mkdirSync(join(blocked, 'in-the-way'), { recursive: true });
  let retries = 0;
  const err = await writeDurably(blocked, '{}', {}, { onRetry: () => retries++ }).catch((e: unknown) => e);
  assert.ok(err instanceof StateWriteError, String(err));
  assert.equal(err.errno, 'EISDIR');
  assert.equal(err.path, blocked);
  assert.equal(retries, 0);
  await writeDurably(join(dir, 'ok.json'), '{"a":1}');
  assert.equal(readFileSync(join(dir, 'ok.json'), 'utf8'), '{"a":1}');
});
