/** Image metadata for tests: a valid document, and changes of it. */
import type { ImageMetadata } from '../../images/index.js';

export function sampleMetadata(over: Partial<Record<keyof ImageMetadata, unknown>> = {}): Record<string, unknown> {
  return {
    name: 'alma9-condor',
    version: '1.2.0',
    os: { family: 'alma', version: '9' },
    arch: 'x86_64',
    format: 'qcow2',
    hypervisors: ['kvm', 'xen'],
    provides: [
      { name: 'htcondor', version: '23.0.4' },
      { name: 'cvmfs', version: '2.11' },
    ],
    requires: { cores: 2, memory_mb: 2048, disk_gb: 20 },
    size: 1_073_741_824,
    checksums: { sha256: 'a'.repeat(64), sha512: 'b'.repeat(128) },
    created: '2026-01-01T00:00:00Z',
    valid_until: '2099-01-01T00:00:00Z',
    ...over,
  };
}

export const bytesOf = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc));
