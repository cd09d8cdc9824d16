/** Endorser files and the trust decision: each refusal has its own code and reason. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ENDORSER_TYPE,
  IMAGE_METADATA_TYPE,
  decideTrust,
  encodeEnvelope,
  generateEndorserKey,
  keyIdOf,
  makeEndorserFile,
  parseEndorserFile,
  signEnvelope,
  type Endorser,
  type TrustPolicy,
} from '../../images/index.js';
import { bytesOf, sampleMetadata } from './sample.js';

const now = new Date('2026-06-01T00:00:00Z');

describe('endorser files', () => {
  it('bind a name and e-mail to the key, verified before use', () => {
    const k = generateEndorserKey();
    const f = makeEndorserFile(k, 'Ada Lovelace', 'ada@example.org');
    const e = parseEndorserFile(JSON.stringify(f), 'ada.pub.json');
    assert.equal(e.keyid, keyIdOf(k));
    assert.equal(e.email, 'ada@example.org');
    // Someone else's identity envelope with this key file: refused.
    const mallory = makeEndorserFile(generateEndorserKey(), 'Ada Lovelace', 'ada@example.org');
    assert.throws(
      () => parseEndorserFile(JSON.stringify({ ...f, identity: mallory.identity }), 'x.json'),
      /x\.json: identity: signed only by unknown key/,
    );
    assert.throws(
      () => parseEndorserFile(JSON.stringify({ ...f, keyid: '0'.repeat(64) }), 'x.json'),
      /is not the SHA-256 of public_key/,
    );
    assert.throws(() => makeEndorserFile(k, 'Ada', 'not-an-email'), /e-mail: 'not-an-email' is not an e-mail address/);
  });
});

describe('trust decision', () => {
  const ada = generateEndorserKey();
  const eve = generateEndorserKey();
  const endorser = (k: ReturnType<typeof generateEndorserKey>): Endorser =>
    parseEndorserFile(JSON.stringify(makeEndorserFile(k, 'Ada', 'ada@example.org')), 'ada');
  const policy = (over: Partial<TrustPolicy> = {}): TrustPolicy => ({
    endorsers: new Map([[keyIdOf(ada), endorser(ada)]]),
    refusedKeyids: new Set(),
    refusedChecksums: new Set(),
    refusedImages: new Set(),
    allowUnsigned: false,
    ...over,
  });
  const signed = (over = {}, key = ada, type = IMAGE_METADATA_TYPE) =>
    encodeEnvelope(signEnvelope(type, bytesOf(sampleMetadata(over)), key));
  const refusal = (d: ReturnType<typeof decideTrust>) => (d.ok ? 'accepted' : `${d.code}: ${d.reason}`);

  it('accepts metadata signed by a trusted endorser, valid and current', () => {
    const d = decideTrust('alma9-condor', signed(), policy(), now);
    assert.ok(d.ok);
    assert.equal(d.metadata?.version, '1.2.0');
    assert.deepEqual(
      d.endorsers.map((e) => e.keyid),
      [keyIdOf(ada)],
    );
  });

  it('unsigned: refused unless allowed', () => {
    assert.match(
      refusal(decideTrust('alma9-condor', undefined, policy(), now)),
      /^CG_IMAGE_UNSIGNED: image 'alma9-condor' refused: no signed metadata/,
    );
    assert.ok(decideTrust('alma9-condor', undefined, policy({ allowUnsigned: true }), now).ok);
    const empty = JSON.stringify({ ...JSON.parse(signed()), signatures: [] });
    assert.match(
      refusal(decideTrust('alma9-condor', empty, policy({ allowUnsigned: true }), now)),
      /^CG_IMAGE_UNSIGNED: .*carries no signature/,
    );
  });

  it('each refusal has its own code and names the reason', () => {
    assert.match(
      refusal(decideTrust('alma9-condor', signed({}, eve), policy(), now)),
      /^CG_IMAGE_UNKNOWN_KEY: .*signed by no endorser this cloud trusts/,
    );
    assert.match(
      refusal(decideTrust('alma9-condor', signed(), policy({ refusedKeyids: new Set([keyIdOf(ada)]) }), now)),
      /^CG_IMAGE_UNKNOWN_KEY/,
    );
    assert.match(
      refusal(decideTrust('alma9-condor', signed({ valid_until: '2026-05-01T00:00:00Z' }), policy(), now)),
      /^CG_IMAGE_EXPIRED: .*expired at 2026-05-01T00:00:00Z/,
    );
    assert.match(
      refusal(decideTrust('alma9-condor', signed({ deprecated: { reason: 'CVE-2026-0001' } }), policy(), now)),
      /^CG_IMAGE_DEPRECATED: .*CVE-2026-0001/,
    );
    assert.match(
      refusal(decideTrust('alma9-condor', signed(), policy({ refusedChecksums: new Set(['b'.repeat(128)]) }), now)),
      /^CG_IMAGE_REFUSED: .*checksum bbbb/,
    );
    assert.match(
      refusal(decideTrust('alma9-condor', signed(), policy({ refusedImages: new Set(['alma9-condor@1.2.0']) }), now)),
      /^CG_IMAGE_REFUSED: .*alma9-condor@1\.2\.0/,
    );
    assert.match(
      refusal(
        decideTrust(
          'alma9-condor',
          undefined,
          policy({ allowUnsigned: true, refusedImages: new Set(['alma9-condor']) }),
          now,
        ),
      ),
      /^CG_IMAGE_REFUSED/,
    );
    assert.match(
      refusal(decideTrust('cernvm-4', signed(), policy(), now)),
      /^CG_IMAGE_MISMATCH: image 'cernvm-4' refused: the signed metadata describes 'alma9-condor'/,
    );
    const env = JSON.parse(signed()) as Record<string, unknown>;
    const tampered = JSON.stringify({
      ...env,
      payload: bytesOf(sampleMetadata({ deprecated: undefined, valid_until: '2199-01-01T00:00:00Z' })).toString(
        'base64',
      ),
    });
    assert.match(refusal(decideTrust('alma9-condor', tampered, policy(), now)), /^CG_IMAGE_TAMPERED/);
    const swapped = JSON.stringify({ ...JSON.parse(signed({}, ada, ENDORSER_TYPE)), payloadType: IMAGE_METADATA_TYPE });
    assert.match(refusal(decideTrust('alma9-condor', swapped, policy(), now)), /^CG_IMAGE_TYPE_SWAPPED/);
    assert.match(refusal(decideTrust('alma9-condor', '{"payload":', policy(), now)), /^CG_IMAGE_ENVELOPE/);
  });
});
