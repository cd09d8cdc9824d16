import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptContext, encryptContext, isEncryptedContext, DEFAULT_KDF } from '../../agents/gateway/model/index.js';

const CONTEXT = '#!/bin/sh\n[amiconfig]\nplugins = environment\n[environment]\nGREETING = héllo wörld ✓\n';

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

test('round trip restores the exact text, and the envelope hides it', async () => {
  const blob = await encryptContext(CONTEXT, 'correct horse battery staple');
  assert.ok(isEncryptedContext(blob));
  assert.ok(!blob.includes(Buffer.from('amiconfig')));
  assert.equal(blob.length, 53 + Buffer.byteLength(CONTEXT));
  assert.equal(await decryptContext(blob, 'correct horse battery staple'), CONTEXT);
});

test('the envelope records version and scrypt parameters (N=2^15, r=8, p=1)', async () => {
  const blob = await encryptContext('x', 'pw');
  assert.equal(blob.subarray(0, 4).toString('ascii'), 'CGCX');
  assert.deepEqual([blob[4], blob[5], blob[6], blob[7], blob[8]], [1, 1, 15, 8, 1]);
  assert.deepEqual(DEFAULT_KDF, { log2N: 15, r: 8, p: 1 });
});

test('salt and nonce are fresh each time', async () => {
  const [a, b] = await Promise.all([encryptContext(CONTEXT, 'pw'), encryptContext(CONTEXT, 'pw')]);
  assert.notDeepEqual(a.subarray(9, 37), b.subarray(9, 37));
  assert.notDeepEqual(a.subarray(53), b.subarray(53));
});

test('a wrong passphrase is a typed error, never garbage', async () => {
  const blob = await encryptContext(CONTEXT, 'right');
  assert.equal(await codeOf(decryptContext(blob, 'wrong')), 'CG_CONTEXT_PASSPHRASE');
  assert.equal(await codeOf(decryptContext(blob, 'Right')), 'CG_CONTEXT_PASSPHRASE');
});

test('the passphrase is compared in Unicode NFC form', async () => {
  const blob = await encryptContext('x', 'caf\u00e9');
  assert.equal(await decryptContext(blob, 'cafe\u0301'), 'x');
});

test('tampering with ciphertext, tag, nonce, salt or header is detected', async () => {
  const blob = await encryptContext(CONTEXT, 'pw');
  for (const offset of [60, 53 + Buffer.byteLength(CONTEXT) - 1, 40, 30, 12, 7]) {
    const bad = Buffer.from(blob);
    bad[offset]! ^= 0x01;
    assert.equal(await codeOf(decryptContext(bad, 'pw')), 'CG_CONTEXT_PASSPHRASE', `byte ${offset}`);
  }
  const truncated = blob.subarray(0, blob.length - 1);
  assert.equal(await codeOf(decryptContext(truncated, 'pw')), 'CG_CONTEXT_PASSPHRASE');
});

test('malformed envelopes are rejected before any key derivation', async () => {
  const blob = await encryptContext('x', 'pw');
  assert.equal(await codeOf(decryptContext(Buffer.from('[amiconfig]\n'), 'pw')), 'CG_CONTEXT_ENVELOPE');
  assert.equal(await codeOf(decryptContext(blob.subarray(0, 40), 'pw')), 'CG_CONTEXT_ENVELOPE');
  const v2 = Buffer.from(blob);
  v2[4] = 2;
  assert.equal(await codeOf(decryptContext(v2, 'pw')), 'CG_CONTEXT_ENVELOPE');
  const huge = Buffer.from(blob);
  huge[6] = 30; // N = 2^30: a memory bomb from an untrusted envelope
  const t0 = Date.now();
  assert.equal(await codeOf(decryptContext(huge, 'pw')), 'CG_CONTEXT_ENVELOPE');
  assert.ok(Date.now() - t0 < 50);
});

test('empty passphrases and weak parameters are refused', async () => {
  assert.equal(await codeOf(encryptContext('x', '')), 'CG_CONTEXT_PASSPHRASE');
  await assert.rejects(encryptContext('x', 'pw', { kdf: { log2N: 10, r: 8, p: 1 } }), RangeError);
});

test('key derivation does not block the event loop', async () => {
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
  }, 5);
  const t0 = performance.now();
  await encryptContext('x', 'pw');
  const ms = performance.now() - t0;
  clearInterval(timer);
  assert.ok(ms < 20 || ticks > 0, 'timers ran while scrypt worked');
});
