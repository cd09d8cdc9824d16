/** The image-metadata format: a valid document reads back whole; each bad field is named. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImageError, parseMetadata, validateMetadata } from '../../images/index.js';
import { bytesOf, sampleMetadata } from './sample.js';

const refused = (doc: unknown, field: RegExp) =>
  assert.throws(
    () => validateMetadata(doc),
    (err: unknown) => err instanceof ImageError && err.code === 'CG_IMAGE_METADATA' && field.test(err.message),
  );

describe('image metadata format', () => {
  it('reads a valid document, frozen', () => {
    const m = parseMetadata(bytesOf(sampleMetadata({ deprecated: { reason: 'CVE-2026-1' } })));
    assert.equal(m.name, 'alma9-condor');
    assert.deepEqual(m.requires, { cores: 2, memory_mb: 2048, disk_gb: 20 });
    assert.equal(m.provides[0]?.name, 'htcondor');
    assert.equal(m.deprecated?.reason, 'CVE-2026-1');
    assert.ok(Object.isFrozen(m) && Object.isFrozen(m.requires));
  });

  it('names the bad field', () => {
    refused(sampleMetadata({ name: 'bad name' }), /^image metadata: name: /);
    refused(sampleMetadata({ os: { family: 'alma' } }), /os\.version: missing/);
    refused(sampleMetadata({ requires: { cores: 0, memory_mb: 1, disk_gb: 1 } }), /requires\.cores: 0 is below 1/);
    refused(
      sampleMetadata({ requires: { cores: 1.5, memory_mb: 1, disk_gb: 1 } }),
      /requires\.cores: expected an integer/,
    );
    refused(sampleMetadata({ checksums: { sha256: 'A'.repeat(64) } }), /checksums\.sha256/);
    refused(sampleMetadata({ checksums: { sha256: 'a'.repeat(64), md5: 'x' } }), /checksums\.md5: unknown field/);
    refused(sampleMetadata({ valid_until: 'tomorrow' }), /valid_until: 'tomorrow' is not an RFC 3339 time/);
    refused(sampleMetadata({ valid_until: '2025-01-01T00:00:00Z' }), /valid_until: .* is not after created/);
    refused(sampleMetadata({ provides: [{ name: 'htcondor' }] }), /provides\[0\]\.version: missing/);
    refused(sampleMetadata({ hypervisors: [] }), /hypervisors: expected at least 1/);
    refused(sampleMetadata({ deprecated: { reason: ' ' } }), /deprecated\.reason/);
    refused({ ...sampleMetadata(), owner: 'x' }, /owner: unknown field/);
    refused([], /expected an object/);
    assert.throws(() => parseMetadata('{'), /image metadata: not JSON/);
  });
});
