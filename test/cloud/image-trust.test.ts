/** The cloud agent's [trust] and [images] sections, without a server: parsed, checked, and decided. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../core/index.js';
import { loadImageTrust, parseCloudConfig } from '../../agents/cloud/index.js';
import {
  IMAGE_METADATA_TYPE,
  encodeEnvelope,
  generateEndorserKey,
  keyIdOf,
  makeEndorserFile,
  signEnvelope,
} from '../../images/index.js';
import { silent } from '../helpers/agents.js';
import { bytesOf, sampleMetadata } from '../images/sample.js';
import { tempDir } from './helpers.js';

const tmp = tempDir('image-trust');
after(() => tmp.remove());

const ini = (extra: string) => `
[xmpp]
jid = cloud@example.org
password = xmpp-password-1234
[cloud]
name = c1
driver = local
db = c1.sqlite
requesters = gw@example.org
[instances]
xmpp_domain = vms.example.org
jwt_key = key.jwk
server = xmpp.example.org
${extra}`;

const load = (extra: string, now = new Date('2026-06-01T00:00:00Z')) =>
  loadImageTrust(parseCloudConfig(ini(extra), join(tmp.dir, 'cloud.ini')), silent, () => now);

describe('cloud image trust policy', () => {
  const ada = generateEndorserKey();
  writeFileSync(join(tmp.dir, 'ada.pub.json'), JSON.stringify(makeEndorserFile(ada, 'Ada', 'ada@example.org')));
  mkdirSync(join(tmp.dir, 'meta'));
  writeFileSync(
    join(tmp.dir, 'meta', 'alma9-condor.json'),
    encodeEnvelope(
      signEnvelope(IMAGE_METADATA_TYPE, bytesOf(sampleMetadata({ valid_until: '2026-07-01T00:00:00Z' })), ada),
    ),
  );

  it('is off without [trust]; endorser paths are relative to the file', () => {
    assert.equal(load(''), undefined);
    const t = load('[trust]\nendorsers = ada.pub.json\n[images]\nmetadata_dir = meta\n')!;
    assert.equal(t.check('alma9-condor'), undefined);
    assert.match(t.check('cernvm-4')!, /^image 'cernvm-4' refused: no signed metadata .*\[CG_IMAGE_UNSIGNED\]$/);
    // Decided at each request: the same metadata expire on time.
    assert.match(
      load(
        '[trust]\nendorsers = ada.pub.json\n[images]\nmetadata_dir = meta\n',
        new Date('2026-08-01T00:00:00Z'),
      )!.check('alma9-condor')!,
      /\[CG_IMAGE_EXPIRED\]$/,
    );
    assert.equal(load('[trust]\nallow_unsigned = yes\n')!.check('cernvm-4'), undefined);
    // A long deprecation text still leaves a reason that fits a Discover answer.
    writeFileSync(
      join(tmp.dir, 'meta', 'long.json'),
      encodeEnvelope(
        signEnvelope(
          IMAGE_METADATA_TYPE,
          bytesOf(sampleMetadata({ name: 'long', deprecated: { reason: 'x'.repeat(1024) } })),
          ada,
        ),
      ),
    );
    const long = load('[trust]\nendorsers = ada.pub.json\n[images]\nmetadata_dir = meta\n')!.check('long')!;
    assert.ok(long.length <= 1024 && long.endsWith('… [CG_IMAGE_DEPRECATED]'), long);
    // This cloud's flavor against the image's requirements (2 cores, 2048 MB in the sample).
    const t2 = load('[trust]\nendorsers = ada.pub.json\n[images]\nmetadata_dir = meta\n')!;
    assert.equal(t2.check('alma9-condor', { name: 'medium', cores: 2, memoryMb: 4096 }), undefined);
    assert.equal(
      t2.check('alma9-condor', { name: 'small', cores: 1, memoryMb: 256 }),
      "image 'alma9-condor' refused: flavor small (1 core, 256 MB) is below what image alma9-condor@1.2.0 requires (2 cores, 2048 MB) on cloud c1",
    );
    assert.match(
      load(
        `[trust]\nendorsers = ada.pub.json\nrefuse_endorsers = ${'0'.repeat(64)}, ${keyIdOf(ada)}\n[images]\nmetadata_dir = meta\n`,
      )!.check('alma9-condor')!,
      /\[CG_IMAGE_UNKNOWN_KEY\]$/,
    );
  });

  it('refuses a bad policy at start, naming file, section and key', () => {
    const bad = (extra: string, re: RegExp) =>
      assert.throws(
        () => load(extra),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
      );
    bad(
      '[trust]\nendorsers = missing.pub.json\n',
      /cloud\.ini \[trust\] endorsers: cannot read .*missing\.pub\.json \(ENOENT\)/,
    );
    bad('[trust]\nrefuse_checksums = abc\n', /\[trust\] refuse_checksums: 'abc' is not 64 or 128 hex digits/);
    bad('[trust]\nrefuse_endorsers = xyz\n', /\[trust\] refuse_endorsers: 'xyz' is not 64 hex digits/);
    bad('[images]\nmetadata_dir = meta\n', /\[images\] metadata_dir: needs a \[trust\] section/);
    bad('[trust]\n[images]\nmetadata_dir = nowhere\n', /\[images\] metadata_dir: cannot read .*nowhere \(ENOENT\)/);
    writeFileSync(
      join(tmp.dir, 'forged.pub.json'),
      JSON.stringify({ ...makeEndorserFile(ada, 'Ada', 'ada@example.org'), keyid: 'f'.repeat(64) }),
    );
    bad(
      '[trust]\nendorsers = forged.pub.json\n',
      /\[trust\] endorsers: .*forged\.pub\.json: keyid f+ is not the SHA-256 of public_key/,
    );
    assert.throws(() => load('[trust]\nallow_unsigend = yes\n'), /allow_unsigend/);
  });
});
