/** The public endorser file (format in keys.ts): making it and reading it back verified. */
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { ImageError } from './errors.js';
import { decodeEnvelope, signEnvelope, verifyEnvelope, type Envelope } from './envelope.js';
import { ENDORSER_TYPE, keyIdOf, publicKeyFromRaw, rawPublicKey, type Endorser } from './keys.js';
import { IMAGE_METADATA_TYPE } from './format.js';

export interface EndorserFile {
  readonly keyid: string;
  readonly public_key: string;
  readonly identity: Envelope;
}

const EMAIL = /^[^\s@<>]{1,64}@[A-Za-z0-9.-]{1,253}$/;

export function makeEndorserFile(key: KeyObject, name: string, email: string, now = new Date()): EndorserFile {
  if (name.trim() === '' || name.length > 200 || /[\n\r]/.test(name))
    throw new ImageError('CG_IMAGE_KEY', `endorser name: expected one line of 1-200 characters`);
  if (!EMAIL.test(email))
    throw new ImageError('CG_IMAGE_KEY', `endorser e-mail: '${email.slice(0, 80)}' is not an e-mail address`);
  const publicKey = rawPublicKey(key).toString('base64');
  const body = Buffer.from(
    JSON.stringify({ name: name.trim(), email, public_key: publicKey, created: now.toISOString() }),
  );
  return { keyid: keyIdOf(key), public_key: publicKey, identity: signEnvelope(ENDORSER_TYPE, body, key) };
}

/** Verifies an endorser file (key id, self-signature, key in the identity) and reads it. */
export function parseEndorserFile(text: string, where: string): Endorser {
  const fail = (why: string, cause?: unknown): never => {
    throw new ImageError('CG_IMAGE_KEY', `${where}: ${why}`, { cause });
  };
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail('not JSON');
  }
  if (typeof doc !== 'object' || doc === null || typeof doc.public_key !== 'string' || typeof doc.keyid !== 'string')
    return fail('expected an endorser file (keyid, public_key, identity)');
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyFromRaw(Buffer.from(doc.public_key, 'base64'));
  } catch (err) {
    return fail('public_key is not an Ed25519 public key', err);
  }
  const keyid = keyIdOf(publicKey);
  if (keyid !== doc.keyid) fail(`keyid ${doc.keyid.slice(0, 80)} is not the SHA-256 of public_key (${keyid})`);
  let id: Record<string, unknown>;
  try {
    const v = verifyEnvelope(decodeEnvelope(doc.identity), new Map([[keyid, publicKey]]), ENDORSER_TYPE, [
      IMAGE_METADATA_TYPE,
    ]);
    id = JSON.parse(v.payload.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    return fail(`identity: ${(err as Error).message}`, err);
  }
  if (id.public_key !== doc.public_key) fail('identity names another public key');
  if (typeof id.name !== 'string' || typeof id.email !== 'string' || typeof id.created !== 'string')
    fail('identity: expected name, email, created');
  return Object.freeze({
    keyid,
    name: id.name as string,
    email: id.email as string,
    created: id.created as string,
    publicKey,
  });
}

export function readEndorserFile(file: string): Endorser {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ImageError(
      'CG_IMAGE_KEY',
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parseEndorserFile(text, file);
}

/** `Ada Lovelace <ada@example.org> (keyid 0123456789abcdef…)` */
export const endorserLabel = (e: Endorser): string => `${e.name} <${e.email}> (key ${e.keyid.slice(0, 16)})`;
