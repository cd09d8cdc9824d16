/**
 * Endorser keys: Ed25519 key pairs from node:crypto. The key id is the lower-case hex
 * SHA-256 of the raw 32-byte public key (RFC 8032 encoding: the JWK `x` value decoded, or
 * the last 32 bytes of the SubjectPublicKeyInfo DER), never of a PEM or DER wrapper.
 *
 * Files: the private key is PKCS#8 PEM, created mode 0600 and refused when group or others
 * may read it. The public endorser file binds an identity to the key:
 *
 *   {"keyid": K, "public_key": base64(raw 32 bytes),
 *    "identity": <DSSE envelope of {"name","email","public_key","created"}, type ENDORSER_TYPE, signed by the key>}
 *
 * It is verified with the key it names before the identity is read.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { ImageError } from './errors.js';

export const ENDORSER_TYPE = 'application/vnd.cloudgate.endorser.v1+json';

export interface Endorser {
  readonly keyid: string;
  readonly name: string;
  readonly email: string;
  readonly publicKey: KeyObject;
  readonly created: string;
}

/** The raw 32-byte Ed25519 public key of a public or private key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519')
    throw new ImageError('CG_IMAGE_KEY', `expected an Ed25519 key, got ${pub.asymmetricKeyType ?? pub.type}`);
  return Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url');
}

export const keyIdOf = (key: KeyObject): string => createHash('sha256').update(rawPublicKey(key)).digest('hex');

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new ImageError('CG_IMAGE_KEY', `an Ed25519 public key is 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function generateEndorserKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/** Writes a private key as PKCS#8 PEM, mode 0600; an existing file is never overwritten. */
export function writePrivateKey(file: string, key: KeyObject): void {
  try {
    writeFileSync(file, key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageError(
      'CG_IMAGE_KEY',
      code === 'EEXIST'
        ? `${file} exists: not overwritten`
        : `cannot write ${file} (${code ?? (err as Error).message})`,
    );
  }
}

export function readPrivateKey(file: string): KeyObject {
  let pem: string;
  try {
    const st = statSync(file);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new ImageError(
        'CG_IMAGE_KEY',
        `${file}: private key readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError(
      'CG_IMAGE_KEY',
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ImageError('CG_IMAGE_KEY', `${file}: not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new ImageError('CG_IMAGE_KEY', `${file}: not an Ed25519 key (${key.asymmetricKeyType})`);
  return key;
}
