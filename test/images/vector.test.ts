/**
 * Interoperability: the test vector in vector/ (made with `cloudgate key generate` and
 * `cloudgate image sign`, two endorsers) and a fresh envelope from the current code are
 * checked by vector/verify.go, which uses only Go's standard library (crypto/ed25519); a
 * tampered payload and a swapped payload type fail there too. Without Go this test fails.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import {
  IMAGE_METADATA_TYPE,
  decideTrust,
  encodeEnvelope,
  generateEndorserKey,
  makeEndorserFile,
  readEndorserFile,
  signEnvelope,
} from '../../images/index.js';

const vector = fileURLToPath(new URL('../../../test/images/vector/', import.meta.url));

function findGo(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/go/bin'];
  for (const d of dirs) {
    try {
      accessSync(join(d, 'go'), constants.X_OK);
      return join(d, 'go');
    } catch {
      /* next */
    }
  }
  return undefined;
}

interface Run {
  code: number;
  out: string;
}
function goVerify(go: string, envelope: string, ...endorsers: string[]): Promise<Run> {
  return new Promise((resolve) => {
    // GOTOOLCHAIN=local: never fetch a toolchain; the first build may be slow on a busy machine.
    execFile(
      go,
      ['run', 'verify.go', envelope, ...endorsers],
      { cwd: vector, env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '' }, timeout: 600_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
      },
    );
  });
}

describe('envelopes verify with an independent Ed25519 implementation (Go standard library)', {
  timeout: 1_200_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-vector-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ada = join(vector, 'ada.pub.json');
  const grace = join(vector, 'grace.pub.json');
  const envelope = join(vector, 'envelope.json');

  it('the committed vector is valid here as well', () => {
    const endorsers = new Map(
      [ada, grace].map((f) => {
        const e = readEndorserFile(f);
        return [e.keyid, e] as const;
      }),
    );
    const d = decideTrust(
      'alma9-condor',
      readFileSync(envelope, 'utf8'),
      {
        endorsers,
        refusedKeyids: new Set(),
        refusedChecksums: new Set(),
        refusedImages: new Set(),
        allowUnsigned: false,
      },
      new Date(),
    );
    assert.ok(d.ok, d.ok ? '' : d.reason);
    assert.equal(d.endorsers.length, 2);
  });

  it('Go verifies the vector and a fresh envelope, and refuses tampered ones', async () => {
    const go = findGo();
    if (!go)
      assert.fail('go not found (PATH, /usr/local/go/bin): this test needs Go to check envelopes with crypto/ed25519');

    const ok = await goVerify(go, envelope, ada, grace);
    assert.equal(ok.code, 0, ok.out);
    for (const f of [ada, grace])
      assert.ok(ok.out.includes(`verified ${IMAGE_METADATA_TYPE} ${readEndorserFile(f).keyid}`), ok.out);

    const key = generateEndorserKey();
    const pub = makeEndorserFile(key, 'Fresh Endorser', 'fresh@example.org');
    const fresh = signEnvelope(IMAGE_METADATA_TYPE, readFileSync(join(vector, 'metadata.json')), key);
    writeFileSync(join(dir, 'fresh.pub.json'), JSON.stringify(pub));
    writeFileSync(join(dir, 'fresh.json'), encodeEnvelope(fresh));
    const now = await goVerify(go, join(dir, 'fresh.json'), join(dir, 'fresh.pub.json'));
    assert.equal(now.code, 0, now.out);
    assert.match(now.out, new RegExp(`verified ${IMAGE_METADATA_TYPE.replace(/[.+]/g, '\\$&')} ${pub.keyid}`));

    const original = JSON.parse(readFileSync(envelope, 'utf8')) as { payload: string; payloadType: string };
    const text = Buffer.from(original.payload, 'base64').toString('utf8');
    writeFileSync(
      join(dir, 'tampered.json'),
      JSON.stringify({ ...original, payload: Buffer.from(text.replace('"1.2.0"', '"1.2.1"')).toString('base64') }),
    );
    const tampered = await goVerify(go, join(dir, 'tampered.json'), ada);
    assert.equal(tampered.code, 1, tampered.out);
    assert.match(tampered.out, /^FAIL signature by [0-9a-f]{64} does not verify/m);
    writeFileSync(
      join(dir, 'swapped.json'),
      JSON.stringify({ ...original, payloadType: 'application/vnd.cloudgate.endorser.v1+json' }),
    );
    const swapped = await goVerify(go, join(dir, 'swapped.json'), ada);
    assert.equal(swapped.code, 1, swapped.out);
  });
});
