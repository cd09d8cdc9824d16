/**
 * DSSE envelopes with Ed25519: sign, endorse, verify; and each way of breaking one fails
 * with its own code, before the payload is parsed.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ENDORSER_TYPE,
  IMAGE_METADATA_TYPE,
  ImageError,
  decodeEnvelope,
  encodeEnvelope,
  generateEndorserKey,
  keyIdOf,
  pae,
  rawPublicKey,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
} from '../../images/index.js';
import { bytesOf, sampleMetadata } from './sample.js';

const pub = (k: KeyObject) => [keyIdOf(k), k] as const;
const code = (c: string) => (err: unknown) => err instanceof ImageError && err.code === c;

describe('DSSE envelope', () => {
  const ada = generateEndorserKey();
  const bob = generateEndorserKey();
  const eve = generateEndorserKey();
  const body = bytesOf(sampleMetadata());
  const ring = new Map([pub(ada), pub(bob)]);

  it('PAE is DSSEv1 SP len(type) SP type SP len(body) SP body', () => {
    assert.equal(pae('t/x', Buffer.from('hello')).toString(), 'DSSEv1 3 t/x 5 hello');
    assert.equal(pae('é', Buffer.alloc(0)).toString(), 'DSSEv1 2 é 0 ');
  });

  it('key id is the SHA-256 of the raw 32-byte public key', () => {
    const raw = rawPublicKey(ada);
    assert.equal(raw.length, 32);
    assert.equal(keyIdOf(ada), createHash('sha256').update(raw).digest('hex'));
    // The same 32 bytes end the SubjectPublicKeyInfo DER (a fixed 12-byte prefix).
    const der = createPublicKey(ada).export({ format: 'der', type: 'spki' });
    assert.deepEqual(der.subarray(der.length - 32), raw);
  });

  it('a signature verifies with plain Ed25519 over the PAE, and endorsements add signatures', () => {
    const one = signEnvelope(IMAGE_METADATA_TYPE, body, ada);
    const s = one.signatures[0]!;
    assert.equal(s.keyid, keyIdOf(ada));
    assert.ok(verify(null, pae(IMAGE_METADATA_TYPE, body), createPublicKey(ada), Buffer.from(s.sig, 'base64')));
    const two = signEnvelope(decodeEnvelope(encodeEnvelope(one)), bob);
    assert.deepEqual(
      two.signatures.map((x) => x.keyid),
      [keyIdOf(ada), keyIdOf(bob)],
    );
    assert.deepEqual(verifyEnvelope(two, ring, IMAGE_METADATA_TYPE).keyids, [keyIdOf(ada), keyIdOf(bob)]);
    assert.deepEqual(verifyEnvelope(two, new Map([pub(bob)]), IMAGE_METADATA_TYPE).keyids, [keyIdOf(bob)]);
    // Signing again with the same key replaces its signature rather than adding a second.
    assert.equal(signEnvelope(two, bob).signatures.length, 2);
    assert.deepEqual(verifyEnvelope(two, ring, IMAGE_METADATA_TYPE).payload, body);
  });

  it('a tampered payload, a swapped type, an unknown key, no signature: each its own error', () => {
    const env = signEnvelope(IMAGE_METADATA_TYPE, body, ada);
    const tampered: Envelope = { ...env, payload: bytesOf(sampleMetadata({ version: '6.6.6' })).toString('base64') };
    assert.throws(() => verifyEnvelope(tampered, ring, IMAGE_METADATA_TYPE), code('CG_IMAGE_TAMPERED'));
    // Not even valid JSON: still refused by the signature, the payload is never parsed.
    assert.throws(
      () => verifyEnvelope({ ...env, payload: Buffer.from('{{{').toString('base64') }, ring, IMAGE_METADATA_TYPE),
      code('CG_IMAGE_TAMPERED'),
    );

    const other = signEnvelope(ENDORSER_TYPE, body, ada);
    const swapped: Envelope = { ...other, payloadType: IMAGE_METADATA_TYPE };
    assert.throws(
      () => verifyEnvelope(swapped, ring, IMAGE_METADATA_TYPE, [ENDORSER_TYPE]),
      code('CG_IMAGE_TYPE_SWAPPED'),
    );
    assert.throws(() => verifyEnvelope(other, ring, IMAGE_METADATA_TYPE), code('CG_IMAGE_PAYLOAD_TYPE'));

    assert.throws(
      () => verifyEnvelope(signEnvelope(IMAGE_METADATA_TYPE, body, eve), ring, IMAGE_METADATA_TYPE),
      code('CG_IMAGE_UNKNOWN_KEY'),
    );
    let many = signEnvelope(IMAGE_METADATA_TYPE, body, eve);
    for (let i = 0; i < 5; i++) many = signEnvelope(many, generateEndorserKey());
    assert.throws(
      () => verifyEnvelope(many, ring, IMAGE_METADATA_TYPE),
      (e: unknown) => code('CG_IMAGE_UNKNOWN_KEY')(e) && / and 3 more$/.test((e as Error).message),
    );
    assert.throws(
      () => verifyEnvelope({ ...env, signatures: [] }, ring, IMAGE_METADATA_TYPE),
      code('CG_IMAGE_UNSIGNED'),
    );
    // A signature by an unknown key with the keyid of a trusted one does not verify.
    const forged: Envelope = {
      ...signEnvelope(IMAGE_METADATA_TYPE, body, eve),
      signatures: [{ keyid: keyIdOf(ada), sig: signEnvelope(IMAGE_METADATA_TYPE, body, eve).signatures[0]!.sig }],
    };
    assert.throws(() => verifyEnvelope(forged, ring, IMAGE_METADATA_TYPE), code('CG_IMAGE_TAMPERED'));
  });

  it('a malformed envelope is refused naming the field', () => {
    const env = JSON.parse(encodeEnvelope(signEnvelope(IMAGE_METADATA_TYPE, body, ada))) as Record<string, unknown>;
    const bad = (doc: unknown, re: RegExp) =>
      assert.throws(
        () => decodeEnvelope(JSON.stringify(doc)),
        (e: unknown) => code('CG_IMAGE_ENVELOPE')(e) && re.test((e as Error).message),
      );
    bad({ ...env, payloadType: 3 }, /payloadType/);
    bad({ ...env, payload: 'not base64!' }, /payload: expected base64/);
    bad({ ...env, signatures: [{ keyid: 'ABC', sig: '' }] }, /signatures\[0\]\.keyid/);
    bad({ ...env, extra: 1 }, /extra: unknown field/);
    assert.throws(() => decodeEnvelope('nope'), code('CG_IMAGE_ENVELOPE'));
  });
});
