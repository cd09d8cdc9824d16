/**
 * `cloudgate key` and `cloudgate image` as child processes: keys made with mode 0600 and
 * never printed, metadata signed and endorsed, and verification refusing with the reason.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { sampleMetadata } from './sample.js';

const cliJs = fileURLToPath(new URL('../../agents/cli.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliJs, ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe('cloudgate key / image', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-image-cli-'));
  const p = (f: string) => join(dir, f);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('generates keys, signs, endorses and verifies; refusals name the reason', async () => {
    const ada = await cli('key', 'generate', '--name', 'Ada Lovelace', '--email', 'ada@example.org', '--out', p('ada'));
    assert.equal(ada.code, 0, ada.stderr);
    assert.equal(statSync(p('ada.key')).mode & 0o777, 0o600);
    const pem = readFileSync(p('ada.key'), 'utf8');
    const secret = pem.split('\n')[1]!;
    assert.doesNotMatch(ada.stdout + ada.stderr, new RegExp(secret.replace(/[+/]/g, '.')));
    const keyid = /^key ([0-9a-f]{64})$/m.exec(ada.stdout)![1]!;
    assert.equal(
      (await cli('key', 'generate', '--name', 'X', '--email', 'x@y.z', '--out', p('ada'))).code,
      2,
      'an existing key is never overwritten',
    );
    assert.equal(readFileSync(p('ada.key'), 'utf8'), pem);
    assert.equal(
      (await cli('key', 'generate', '--name', 'Bob', '--email', 'bob@example.org', '--out', p('bob'))).code,
      0,
    );
    assert.equal(
      (await cli('key', 'generate', '--name', 'Eve', '--email', 'eve@example.org', '--out', p('eve'))).code,
      0,
    );

    const shown = await cli('key', 'show', p('ada.pub.json'), '--json');
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(
      { ...JSON.parse(shown.stdout), created: undefined, public_key: undefined },
      { keyid, name: 'Ada Lovelace', email: 'ada@example.org', created: undefined, public_key: undefined },
    );
    const fromKey = await cli('key', 'show', p('ada.key'));
    assert.match(fromKey.stdout, new RegExp(`keyid +${keyid}`));
    assert.doesNotMatch(fromKey.stdout, /PRIVATE|BEGIN/);

    writeFileSync(p('meta.json'), JSON.stringify(sampleMetadata(), null, 2));
    const signed = await cli('image', 'sign', p('meta.json'), '--key', p('ada.key'), '--out', p('env.json'));
    assert.equal(signed.code, 0, signed.stderr);
    const endorsed = await cli('image', 'sign', p('env.json'), '--key', p('bob.key'), '--out', p('env2.json'));
    assert.equal(endorsed.code, 0, endorsed.stderr);
    assert.equal((JSON.parse(readFileSync(p('env2.json'), 'utf8')) as { signatures: unknown[] }).signatures.length, 2);

    const ok = await cli('image', 'verify', p('env2.json'), '--endorser', p('ada.pub.json'), p('bob.pub.json'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /^ok alma9-condor@1\.2\.0 valid until 2099-01-01T00:00:00Z, endorsed by Ada Lovelace <ada@example\.org> .*, Bob <bob@example\.org>/,
    );

    const untrusted = await cli('image', 'verify', p('env.json'), '--endorser', p('eve.pub.json'));
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /signed by no endorser this cloud trusts .*\[CG_IMAGE_UNKNOWN_KEY\]/);

    const env = JSON.parse(readFileSync(p('env.json'), 'utf8')) as { payload: string };
    writeFileSync(
      p('tampered.json'),
      JSON.stringify({
        ...env,
        payload: Buffer.from(JSON.stringify(sampleMetadata({ version: '9.9.9' }))).toString('base64'),
      }),
    );
    const tampered = await cli('image', 'verify', p('tampered.json'), '--endorser', p('ada.pub.json'));
    assert.equal(tampered.code, 1);
    assert.match(tampered.stderr, /\[CG_IMAGE_TAMPERED\]/);

    writeFileSync(p('bad.json'), JSON.stringify(sampleMetadata({ requires: { cores: 0, memory_mb: 1, disk_gb: 1 } })));
    const bad = await cli('image', 'sign', p('bad.json'), '--key', p('ada.key'));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /requires\.cores: 0 is below 1 \[CG_IMAGE_METADATA\]/);

    const loose = p('loose.key');
    writeFileSync(loose, pem, { mode: 0o644 });
    const refusedKey = await cli('image', 'sign', p('meta.json'), '--key', loose);
    assert.equal(refusedKey.code, 2);
    assert.match(refusedKey.stderr, /private key readable by others \(mode 644\)/);
  });
});
