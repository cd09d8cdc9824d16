/**
 * DSSE envelopes (github.com/secure-systems-lab/dsse, protocol.md) with Ed25519:
 *
 *   {"payloadType": T, "payload": base64(BODY), "signatures": [{"keyid": K, "sig": base64(SIG)}, ...]}
 *   SIG = Ed25519(PAE(T, BODY)),  PAE = "DSSEv1" SP len(T) SP T SP len(BODY) SP BODY
 *
 * with len() the byte length in ASCII decimal, SP one space (0x20), T in UTF-8, and K the
 * key id of keys.ts. Every signature is over the same PAE, so a second endorser adds one
 * entry to `signatures`. The signature is checked before the payload is handed to any
 * parser, and the payload type is inside what is signed, so a type swapped after signing
 * fails.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { ImageError } from './errors.js';
import { keyIdOf } from './keys.js';

export interface Signature {
  readonly keyid: string;
  readonly sig: string;
}
export interface Envelope {
  readonly payloadType: string;
  readonly payload: string;
  readonly signatures: readonly Signature[];
}

/** The bytes a signature covers. */
export function pae(payloadType: string, body: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

const B64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function b64(v: unknown, field: string): string {
  if (typeof v !== 'string' || !B64.test(v) || v.length % 4 === 1)
    throw new ImageError('CG_IMAGE_ENVELOPE', `envelope: ${field}: expected base64`);
  return v;
}

/** Reads an envelope from JSON text or a parsed object; the error names the bad field. */
export function decodeEnvelope(input: string | unknown): Envelope {
  let doc = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (err) {
      throw new ImageError('CG_IMAGE_ENVELOPE', `envelope: not JSON (${(err as Error).message})`);
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ImageError('CG_IMAGE_ENVELOPE', 'envelope: expected a JSON object');
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['payloadType', 'payload', 'signatures'].includes(k))
      throw new ImageError('CG_IMAGE_ENVELOPE', `envelope: ${k}: unknown field`);
  if (typeof o.payloadType !== 'string' || o.payloadType === '' || o.payloadType.length > 256)
    throw new ImageError('CG_IMAGE_ENVELOPE', 'envelope: payloadType: expected a non-empty string');
  const payload = b64(o.payload, 'payload');
  if (!Array.isArray(o.signatures)) throw new ImageError('CG_IMAGE_ENVELOPE', 'envelope: signatures: expected a list');
  if (o.signatures.length > 64) throw new ImageError('CG_IMAGE_ENVELOPE', 'envelope: signatures: more than 64');
  const signatures = o.signatures.map((s, i): Signature => {
    if (typeof s !== 'object' || s === null)
      throw new ImageError('CG_IMAGE_ENVELOPE', `envelope: signatures[${i}]: expected an object`);
    const { keyid, sig } = s as Record<string, unknown>;
    if (typeof keyid !== 'string' || !/^[0-9a-f]{64}$/.test(keyid))
      throw new ImageError('CG_IMAGE_ENVELOPE', `envelope: signatures[${i}].keyid: expected 64 lower-case hex digits`);
    return Object.freeze({ keyid, sig: b64(sig, `signatures[${i}].sig`) });
  });
  return Object.freeze({ payloadType: o.payloadType, payload, signatures: Object.freeze(signatures) });
}

export const encodeEnvelope = (e: Envelope): string =>
  JSON.stringify({ payloadType: e.payloadType, payload: e.payload, signatures: e.signatures }, null, 2) + '\n';

/** A new envelope signed by `key`, or `envelope` with one more signature (an endorsement). */
export function signEnvelope(payloadType: string, body: Uint8Array, key: KeyObject): Envelope;
export function signEnvelope(envelope: Envelope, key: KeyObject): Envelope;
export function signEnvelope(a: string | Envelope, b: Uint8Array | KeyObject, c?: KeyObject): Envelope {
  const [type, body, key] =
    typeof a === 'string'
      ? [a, b as Uint8Array, c!]
      : [a.payloadType, Buffer.from(a.payload, 'base64'), b as KeyObject];
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519')
    throw new ImageError('CG_IMAGE_KEY', 'signing needs an Ed25519 private key');
  const keyid = keyIdOf(key);
  const previous = typeof a === 'string' ? [] : a.signatures.filter((s) => s.keyid !== keyid);
  const sig = sign(null, pae(type, body), key).toString('base64');
  return Object.freeze({
    payloadType: type,
    payload: Buffer.from(body).toString('base64'),
    signatures: Object.freeze([...previous, Object.freeze({ keyid, sig })]),
  });
}

export interface Verified {
  /** The payload bytes, now safe to parse. */
  readonly payload: Buffer;
  /** Key ids whose signatures verified, in envelope order. */
  readonly keyids: readonly string[];
}

/** Key ids for a message: the first few, shortened, so a reason stays short. */
const ids = (sigs: readonly Signature[]): string =>
  sigs
    .slice(0, 3)
    .map((s) => s.keyid.slice(0, 16))
    .join(', ') + (sigs.length > 3 ? ` and ${sigs.length - 3} more` : '');

const verifies = (type: string, body: Buffer, s: Signature, key: KeyObject): boolean => {
  try {
    return verify(null, pae(type, body), key, Buffer.from(s.sig, 'base64'));
  } catch {
    return false;
  }
};

/**
 * Checks `envelope` against `keyring` (key id → public key) for `payloadType`. Succeeds
 * when at least one signature by a key of the keyring verifies; otherwise throws, in this
 * order: CG_IMAGE_PAYLOAD_TYPE (claims another type), CG_IMAGE_UNSIGNED (no signature),
 * CG_IMAGE_UNKNOWN_KEY (no signature by a keyring key), CG_IMAGE_TYPE_SWAPPED (a keyring
 * signature verifies under one of `otherTypes` instead), CG_IMAGE_TAMPERED.
 */
export function verifyEnvelope(
  envelope: Envelope,
  keyring: ReadonlyMap<string, KeyObject>,
  payloadType: string,
  otherTypes: readonly string[] = [],
): Verified {
  if (envelope.payloadType !== payloadType) {
    throw new ImageError(
      'CG_IMAGE_PAYLOAD_TYPE',
      `envelope payload type is '${envelope.payloadType.slice(0, 100)}', expected '${payloadType}'`,
    );
  }
  if (envelope.signatures.length === 0) throw new ImageError('CG_IMAGE_UNSIGNED', 'envelope has no signature');
  const known = envelope.signatures.filter((s) => keyring.has(s.keyid));
  if (known.length === 0) {
    throw new ImageError('CG_IMAGE_UNKNOWN_KEY', `signed only by unknown key(s) ${ids(envelope.signatures)}`);
  }
  const body = Buffer.from(envelope.payload, 'base64');
  const good = known.filter((s) => verifies(payloadType, body, s, keyring.get(s.keyid)!));
  if (good.length > 0) return Object.freeze({ payload: body, keyids: Object.freeze(good.map((s) => s.keyid)) });
  for (const t of otherTypes) {
    if (t !== payloadType && known.some((s) => verifies(t, body, s, keyring.get(s.keyid)!))) {
      throw new ImageError(
        'CG_IMAGE_TYPE_SWAPPED',
        `payload type was swapped: the signature was made for '${t.slice(0, 100)}', not '${payloadType}'`,
      );
    }
  }
  throw new ImageError('CG_IMAGE_TAMPERED', `signature by ${ids(known)} does not match the payload (tampered)`);
}
