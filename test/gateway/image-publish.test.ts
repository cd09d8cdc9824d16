/**
 * `cloudgate image publish` against a real gateway over a real ejabberd: an envelope the
 * CLI signed with a key the gateway trusts joins its image registry at once (definitions
 * may ask for it by what it provides, and are held to its requirements) and is kept in
 * its metadata_dir for the next start; unsigned, untrusted, tampered, type-swapped,
 * expired and deprecated envelopes are each refused with their reason and code, and
 * change nothing.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadImageRegistry, type Gateway, type ImageRegistry } from '../../agents/gateway/index.js';
import {
  ENDORSER_TYPE,
  IMAGE_METADATA_TYPE,
  encodeEnvelope,
  generateEndorserKey,
  readPrivateKey,
  signEnvelope,
} from '../../images/index.js';
import { gateway as gw, StanzaError } from '../../protocols/index.js';
import { bytesOf, sampleMetadata } from '../images/sample.js';
import type { CloudAgent } from '../../agents/cloud/index.js';
import type { Agent } from '../../core/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { makeAgent, silent } from '../helpers/agents.js';
import { startCloud, startServer } from './e2e-setup.js';
import { startGateway, until } from './harness.js';

const ALICE_PW = 'alice-secret-pw-1';
const cliJs = join(fileURLToPath(new URL('../../../', import.meta.url)), 'dist', 'agents', 'cli.js');

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliJs, ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('publishing signed image metadata to the gateway', { timeout: 180_000 }, () => {
  const s = { running: [] as Array<{ stop(): Promise<void> }> } as {
    t: TestServer;
    dir: string;
    alice: Agent;
    running: Array<{ stop(): Promise<void> }>;
  };
  let g: Gateway;
  let cloud: CloudAgent;
  let registry: ImageRegistry;
  let meta = '';
  let work = '';
  let env: Record<string, string> = {};

  before(async () => {
    s.t = await startServer();
    s.dir = mkdtempSync(join(tmpdir(), 'cgt-gw-image-publish-'));
    work = mkdtempSync(join(tmpdir(), 'cgt-image-publish-work-'));
    meta = join(s.dir, 'meta');
    mkdirSync(meta);
    await s.t.register('alice', ALICE_PW);
    // The endorser's key is made by the CLI, as an endorser would.
    const k = await cli(['key', 'generate', '--name', 'Ada', '--email', 'ada@example.org', '--out', join(work, 'ada')]);
    assert.equal(k.code, 0, k.stderr);
    registry = loadImageRegistry({
      endorsers: [join(work, 'ada.pub.json')],
      metadataDir: meta,
      log: silent,
      where: 'gateway.ini [images]',
    });
    // A real cloud agent whose [image.alma9-condor] maps the generic name to an image of its own.
    cloud = await startCloud(s.t, s.dir, {
      name: 'cloud-a',
      driver: 'local',
      gateway: `gateway@${s.t.host}`,
      images: 'alma9-local,test-image',
      extra: '[image.alma9-condor]\nid = alma9-local\n',
    });
    s.running.push(cloud);
    g = await startGateway(s.t, {
      dir: s.dir,
      clouds: [cloud.config.raw.xmpp.jid],
      images: registry,
      http: { host: '127.0.0.1', port: 0 },
    });
    s.running.push(g);
    await until('cloud online', () => g.agent.peers('cloud').length === 1);
    s.alice = await makeAgent(s.t, 'alice');
    await s.alice.start();
    s.running.push(s.alice);
    env = {
      CLOUDGATE_SERVER: s.t.service.replace('xmpp://', ''),
      CLOUDGATE_JID: `alice@${s.t.host}`,
      CLOUDGATE_GATEWAY: g.agent.jid,
      CLOUDGATE_JWT_KEY: s.t.server.info.jwtKeyFile,
      CLOUDGATE_CA: s.t.server.info.certFile,
      XDG_CONFIG_HOME: mkdtempSync(join(s.dir, 'cfg-')),
    };
  });
  after(async () => {
    for (const r of s.running.reverse()) await r.stop().catch(() => {});
    await s.t?.stop();
    if (s.dir) rmSync(s.dir, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const cluster = (flavor: string, image: string) =>
    `[cluster]\nname = c1\n\n[service.head]\ntype = fixed\nflavor = ${flavor}\nimage = ${image}\n`;
  const put = (ini: string) => s.alice.request(gw.PutCluster, g.agent.jid, { definition: ini });

  test('an envelope the CLI signed joins the registry: found by what it provides, held to its requirements, kept for the next start', async () => {
    await assert.rejects(put(cluster('medium', 'os:alma9,app:htcondor>=23')), /no image known to the gateway matches/);
    const doc = join(work, 'alma9.json');
    writeFileSync(doc, JSON.stringify(sampleMetadata({ version: '1.1.0' }), null, 2));
    const signed = await cli([
      'image',
      'sign',
      doc,
      '--key',
      join(work, 'ada.key'),
      '--out',
      join(work, 'alma9.env.json'),
    ]);
    assert.equal(signed.code, 0, signed.stderr);
    const keyid = /signed by ([0-9a-f]{64})/.exec(signed.stderr)![1]!;

    const pub = await cli(['image', 'publish', join(work, 'alma9.env.json')], env);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(
      pub.stdout.trim(),
      `published alma9-condor@1.1.0, valid until 2099-01-01T00:00:00Z, endorsed by ${keyid}`,
    );
    assert.deepEqual(
      registry.images.map((m) => `${m.name}@${m.version}`),
      ['alma9-condor@1.1.0'],
    );
    assert.equal(
      readFileSync(join(meta, 'alma9-condor.json'), 'utf8'),
      readFileSync(join(work, 'alma9.env.json'), 'utf8'),
    );

    await put(cluster('medium', 'os:alma9,app:htcondor>=23'));
    assert.equal(g.model.clusters.get(`alice@${s.t.host}`, 'c1')?.definition.services[0]?.image, 'alma9-condor');
    await assert.rejects(
      put(cluster('small', 'alma9-condor')),
      /flavor small \(1 core, 2048 MB\) is below what image alma9-condor@1\.1\.0 requires \(2 cores, 2048 MB\)/,
    );

    // A newer version replaces it; the JSON answer says which.
    writeFileSync(doc, JSON.stringify(sampleMetadata({ version: '1.2.0' })));
    assert.equal(
      (await cli(['image', 'sign', doc, '--key', join(work, 'ada.key'), '--out', join(work, 'v2.json')])).code,
      0,
    );
    const v2 = await cli(['image', 'publish', join(work, 'v2.json'), '--json'], env);
    assert.equal(v2.code, 0, v2.stderr);
    assert.deepEqual(JSON.parse(v2.stdout), {
      image: 'alma9-condor@1.2.0',
      valid_until: '2099-01-01T00:00:00Z',
      endorsers: [keyid],
      replaced: 'alma9-condor@1.1.0',
    });

    // What the next start reads.
    const again = loadImageRegistry({
      endorsers: [join(work, 'ada.pub.json')],
      metadataDir: meta,
      log: silent,
      where: 'gateway.ini [images]',
    });
    assert.deepEqual(
      again.images.map((m) => `${m.name}@${m.version}`),
      ['alma9-condor@1.2.0'],
    );
  });

  test('unsigned, untrusted, tampered, type-swapped, expired and deprecated envelopes are refused, each with its reason', async () => {
    const ada = readPrivateKey(join(work, 'ada.key'));
    const body = (over: Record<string, unknown> = {}) => bytesOf(sampleMetadata({ name: 'refused-one', ...over }));
    const good = signEnvelope(IMAGE_METADATA_TYPE, body(), ada);
    const cases: Array<[string, string, RegExp]> = [
      ['unsigned', encodeEnvelope({ ...good, signatures: [] }), /\[CG_IMAGE_UNSIGNED\]$/],
      [
        'untrusted',
        encodeEnvelope(signEnvelope(IMAGE_METADATA_TYPE, body(), generateEndorserKey())),
        /signed by no endorser this gateway trusts .*\[CG_IMAGE_UNKNOWN_KEY\]$/,
      ],
      [
        'tampered',
        encodeEnvelope({ ...good, payload: body({ version: '6.6.6' }).toString('base64') }),
        /does not match the payload \(tampered\) \[CG_IMAGE_TAMPERED\]$/,
      ],
      [
        'type-swapped',
        encodeEnvelope({ ...signEnvelope(ENDORSER_TYPE, body(), ada), payloadType: IMAGE_METADATA_TYPE }),
        /payload type was swapped.*\[CG_IMAGE_TYPE_SWAPPED\]$/,
      ],
      [
        'expired',
        encodeEnvelope(
          signEnvelope(
            IMAGE_METADATA_TYPE,
            body({ created: '2020-01-01T00:00:00Z', valid_until: '2021-01-01T00:00:00Z' }),
            ada,
          ),
        ),
        /metadata expired at 2021-01-01T00:00:00Z \[CG_IMAGE_EXPIRED\]$/,
      ],
      [
        'deprecated',
        encodeEnvelope(signEnvelope(IMAGE_METADATA_TYPE, body({ deprecated: { reason: 'CVE-2026-1234' } }), ada)),
        /deprecated by its endorser: CVE-2026-1234 \[CG_IMAGE_DEPRECATED\]$/,
      ],
    ];
    const before = registry.images.map((m) => `${m.name}@${m.version}`);
    for (const [what, envelope, reason] of cases) {
      await assert.rejects(
        s.alice.request(gw.PublishImage, g.agent.jid, { envelope }),
        (e: unknown) => e instanceof StanzaError && e.condition === 'not-acceptable' && reason.test(e.message),
        what,
      );
    }
    assert.deepEqual(
      registry.images.map((m) => `${m.name}@${m.version}`),
      before,
    );
    assert.equal(existsSync(join(meta, 'refused-one.json')), false);
    assert.deepEqual(readdirSync(meta), ['alma9-condor.json'], 'no file left behind');

    // The CLI: a refusal exits 2 with the reason; what is not an envelope is not sent at all.
    writeFileSync(join(work, 'expired.json'), cases[4]![1]);
    const refused = await cli(['image', 'publish', join(work, 'expired.json')], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /metadata expired at 2021-01-01T00:00:00Z \[CG_IMAGE_EXPIRED\]/);
    writeFileSync(join(work, 'plain.json'), JSON.stringify(sampleMetadata()));
    const notEnvelope = await cli(['image', 'publish', join(work, 'plain.json')], {
      ...env,
      CLOUDGATE_SERVER: '127.0.0.1:1',
    });
    assert.equal(notEnvelope.code, 2);
    assert.match(notEnvelope.stderr, /plain\.json: /);
  });

  test('the registry lists each image with the clouds that have it, over IQ, the CLI and HTTP; HTTP publishes too', async () => {
    const listed = await s.alice.request(gw.ListImages, g.agent.jid, {});
    assert.deepEqual(
      listed.images.map((i) => [`${i.name}@${i.version}`, i.os, i.cores, i.memory_mb, i.clouds]),
      [['alma9-condor@1.2.0', 'alma 9', 2, 2048, ['cloud-a']]],
    );
    const text = await cli(['images'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^alma9-condor@1\.2\.0 {2}alma 9 x86_64 qcow2 {2}needs 2 cores, 2048 MB, 20 GB {2}valid until 2099-01-01T00:00:00Z\n {4}provides htcondor 23\.0\.4, cvmfs 2\.11; on cloud-a$/m,
    );

    const base = g.http!.url;
    const login = await fetch(`${base}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `alice@${s.t.host}`, password: ALICE_PW }),
    });
    const { access_token } = (await login.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${access_token}` };
    const list = (await (await fetch(`${base}/api/v1/images`, { headers: auth })).json()) as {
      images: Array<{ name: string; clouds: string[] }>;
    };
    assert.deepEqual(
      list.images.map((i) => [i.name, i.clouds]),
      [['alma9-condor', ['cloud-a']]],
    );
    const ada = readPrivateKey(join(work, 'ada.key'));
    const post = async (envelope: string) => {
      const r = await fetch(`${base}/api/v1/images`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ envelope }),
      });
      return {
        status: r.status,
        type: r.headers.get('content-type'),
        body: (await r.json()) as Record<string, unknown>,
      };
    };
    const expired = await post(
      encodeEnvelope(
        signEnvelope(
          IMAGE_METADATA_TYPE,
          bytesOf(
            sampleMetadata({ name: 'old-one', created: '2020-01-01T00:00:00Z', valid_until: '2021-01-01T00:00:00Z' }),
          ),
          ada,
        ),
      ),
    );
    assert.equal(expired.status, 422, JSON.stringify(expired.body));
    assert.equal(expired.type?.split(';')[0], 'application/problem+json');
    assert.match(String(expired.body.detail), /metadata expired at 2021-01-01T00:00:00Z \[CG_IMAGE_EXPIRED\]/);
    const other = await post(
      encodeEnvelope(signEnvelope(IMAGE_METADATA_TYPE, bytesOf(sampleMetadata({ name: 'other-image' })), ada)),
    );
    assert.equal(other.status, 201, JSON.stringify(other.body));
    assert.equal(other.body.image, 'other-image@1.2.0');
    const after = await s.alice.request(gw.ListImages, g.agent.jid, {});
    assert.deepEqual(
      after.images.map((i) => [i.name, i.clouds]),
      [
        ['alma9-condor', ['cloud-a']],
        ['other-image', []],
      ],
      'no online cloud maps other-image',
    );
  });
});
