import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { decodeUserData, ContextError } from '../../agents/instance/context/index.js';

const CTX = '[environment]\nA = 1\n';

test('plain text passes through, even when it happens to be valid base64', () => {
  assert.deepEqual(decodeUserData(Buffer.from(CTX)), { text: CTX, encodings: [] });
  // "abcd" is valid base64 but does not decode to a context or gzip: keep it as text.
  assert.deepEqual(decodeUserData(Buffer.from('abcd')), { text: 'abcd', encodings: [] });
});

test('base64 with line breaks, of gzip', () => {
  const b64 = gzipSync(CTX)
    .toString('base64')
    .replace(/(.{16})/g, '$1\r\n');
  assert.deepEqual(decodeUserData(Buffer.from(b64)), { text: CTX, encodings: ['base64', 'gzip'] });
});

test('corrupt gzip and binary junk are decode errors', () => {
  const gz = gzipSync(CTX);
  assert.throws(
    () => decodeUserData(gz.subarray(0, gz.length - 6)),
    (e: unknown) => e instanceof ContextError && e.code === 'CG_CONTEXT_DECODE',
  );
  assert.throws(() => decodeUserData(Buffer.from([0xff, 0xfe, 0x00, 0x80])), /neither UTF-8 text/);
});
