/**
 * Context encryption with a user passphrase. CernVM Online used AES-CFB without a MAC and
 * a salted SHA-1 passphrase check; here the key comes from scrypt (memory-hard, RFC 7914)
 * and the cipher is AES-256-GCM (authenticated, NIST SP 800-38D), so a wrong passphrase
 * or any altered byte fails with PassphraseError instead of yielding garbage.
 *
 * Envelope, version 1 (binary, big-endian; every header byte is GCM additional data, so
 * the KDF parameters, salt and nonce cannot be swapped either):
 *
 *   0  4  magic "CGCX"     9 16 salt (random)
 *   4  1  version = 1     25 12 nonce (random, never reused: fresh salt => fresh key too)
 *   5  1  kdf = 1 scrypt  37 16 GCM tag
 *   6  1  log2(N)         53 ..  ciphertext
 *   7  1  r
 *   8  1  p
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { EnvelopeError, PassphraseError } from './errors.js';

export interface KdfParams {
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^15, r = 8: 32 MiB and about 75 ms on the reference 2-core machine. */
export const DEFAULT_KDF: KdfParams = Object.freeze({ log2N: 15, r: 8, p: 1 });

const MAGIC = Buffer.from('CGCX', 'ascii');
const VERSION = 1;
const KDF_SCRYPT = 1;
const HEADER = 37;
const TAG = 16;
/** Decryption refuses envelopes asking for more scrypt memory than this: the parameters
 * come from the (untrusted) envelope, and 2^20 x r=32 would want 4 GiB. */
const MAX_KDF_MEMORY = 256 * 1024 * 1024;

function kdfMemory(k: KdfParams): number {
  return 128 * 2 ** k.log2N * k.r;
}

function deriveKey(passphrase: string, salt: Buffer, k: KdfParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: ~75 ms on the event loop would stall every conversation.
    scrypt(
      passphrase.normalize('NFC'),
      salt,
      32,
      { N: 2 ** k.log2N, r: k.r, p: k.p, maxmem: kdfMemory(k) * 2 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

function checkPassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string' || passphrase === '')
    throw new PassphraseError('the passphrase must not be empty');
}

export function isEncryptedContext(data: Uint8Array): boolean {
  return data.length >= MAGIC.length && Buffer.from(data.subarray(0, MAGIC.length)).equals(MAGIC);
}

export async function encryptContext(
  plaintext: string,
  passphrase: string,
  opts: { kdf?: KdfParams } = {},
): Promise<Buffer> {
  checkPassphrase(passphrase);
  const kdf = opts.kdf ?? DEFAULT_KDF;
  if (kdf.log2N < 14 || kdf.r < 8 || kdf.p < 1 || kdfMemory(kdf) > MAX_KDF_MEMORY || kdf.r > 255 || kdf.p > 255) {
    throw new RangeError('scrypt parameters outside the accepted range (N >= 2^14, r >= 8, p >= 1, memory <= 256 MiB)');
  }
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header, 0);
  header.writeUInt8(VERSION, 4);
  header.writeUInt8(KDF_SCRYPT, 5);
  header.writeUInt8(kdf.log2N, 6);
  header.writeUInt8(kdf.r, 7);
  header.writeUInt8(kdf.p, 8);
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  salt.copy(header, 9);
  nonce.copy(header, 25);
  const key = await deriveKey(passphrase, salt, kdf);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(header);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([header, cipher.getAuthTag(), ct]);
}

export async function decryptContext(envelope: Uint8Array, passphrase: string): Promise<string> {
  checkPassphrase(passphrase);
  const buf = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  if (!isEncryptedContext(buf)) throw new EnvelopeError('not an encrypted context (bad magic)');
  if (buf.length < HEADER + TAG) throw new EnvelopeError('encrypted context is truncated');
  const version = buf.readUInt8(4);
  if (version !== VERSION) throw new EnvelopeError(`unsupported encrypted context version ${version}`);
  const kdfId = buf.readUInt8(5);
  if (kdfId !== KDF_SCRYPT) throw new EnvelopeError(`unsupported key derivation ${kdfId}`);
  const kdf: KdfParams = { log2N: buf.readUInt8(6), r: buf.readUInt8(7), p: buf.readUInt8(8) };
  if (kdf.log2N < 1 || kdf.r < 1 || kdf.p < 1 || kdf.log2N > 24 || kdfMemory(kdf) > MAX_KDF_MEMORY) {
    throw new EnvelopeError(`refusing scrypt parameters N=2^${kdf.log2N} r=${kdf.r} p=${kdf.p}`);
  }
  const header = buf.subarray(0, HEADER);
  const key = await deriveKey(passphrase, buf.subarray(9, 25), kdf);
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(25, 37));
  decipher.setAAD(header);
  decipher.setAuthTag(buf.subarray(HEADER, HEADER + TAG));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(buf.subarray(HEADER + TAG)), decipher.final()]);
  } catch (err) {
    throw new PassphraseError(undefined, { cause: err });
  }
  return plain.toString('utf8');
}
