/**
 * Image trust end to end: cloud-a (preferred) trusts one endorser and holds signed
 * metadata for its images; cloud-b allows unsigned images. Every image cloud-a must refuse
 * (unsigned, signed by an untrusted endorser, tampered, expired, deprecated, refused
 * checksum, requiring more than cloud-a's flavor) is refused there with its reason and
 * deployed on cloud-b instead, the trusted one boots on cloud-a, and an image both clouds
 * refuse fails the deployment saying why.
 * Real ejabberd, real cloud agents, local driver, real instance-agent processes.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudAgent } from '../../agents/cloud/index.js';
import type { Agent } from '../../core/index.js';
import { cloud, gateway as gw } from '../../protocols/index.js';
import {
  IMAGE_METADATA_TYPE,
  encodeEnvelope,
  generateEndorserKey,
  makeEndorserFile,
  signEnvelope,
} from '../../images/index.js';
import type { TestServer } from '../helpers/ejabberd.js';
import { prepare, startGateway, status, until } from './harness.js';
import { liveProcesses, type CloudSpec } from './e2e-setup.js';
import { runStops, startE2e, type Stops } from '../helpers/e2e-clouds.js';
import { bytesOf, sampleMetadata } from '../images/sample.js';

const KINDS = ['good', 'unsigned', 'untrusted', 'tampered', 'expired', 'deprecated', 'refused', 'toobig'] as const;
/** Within the local driver's small flavor (1 core, 512 MB). */
const FITS = { cores: 1, memory_mb: 256, disk_gb: 1 };
const REFUSED_SUM = 'c'.repeat(64);

/** One fixed service per image, each preferring cloud-a. */
function clusterIni(name: string, images: readonly string[]): string {
  return (
    `[cluster]\nname = ${name}\n\n` +
    images
      .map(
        (img, i) =>
          `[service.s-${img}]\ntype = fixed\norder = ${i + 1}\nflavor = small\nimage = img-${img}\ncontext = node\n`,
      )
      .join('\n')
  );
}

describe('image trust at the cloud agents, end to end', { timeout: 240_000 }, () => {
  let t: TestServer;
  let dir: string;
  let alice: Agent;
  let a: CloudAgent;
  let b: CloudAgent;
  const stops: Stops = [];

  /** Endorser keys and signed metadata for each kind of image, then two clouds on them. */
  const clouds = ({ dir: into, gateway }: { dir: string; gateway: string }): CloudSpec[] => {
    const ada = generateEndorserKey();
    const eve = generateEndorserKey();
    writeFileSync(join(into, 'ada.pub.json'), JSON.stringify(makeEndorserFile(ada, 'Ada Lovelace', 'ada@example.org')));
    const meta = join(into, 'metadata');
    mkdirSync(meta);
    const put = (kind: string, over: Record<string, unknown>, key = ada) =>
      writeFileSync(
        join(meta, `img-${kind}.json`),
        encodeEnvelope(
          signEnvelope(
            IMAGE_METADATA_TYPE,
            bytesOf(sampleMetadata({ name: `img-${kind}`, requires: FITS, ...over })),
            key,
          ),
        ),
      );
    put('good', {});
    put('untrusted', {}, eve);
    put('tampered', {});
    const env = JSON.parse(
      encodeEnvelope(
        signEnvelope(IMAGE_METADATA_TYPE, bytesOf(sampleMetadata({ name: 'img-tampered', requires: FITS })), ada),
      ),
    ) as Record<string, unknown>;
    writeFileSync(
      join(meta, 'img-tampered.json'),
      JSON.stringify({
        ...env,
        payload: bytesOf(sampleMetadata({ name: 'img-tampered', requires: FITS, version: '6.6.6' })).toString('base64'),
      }),
    );
    put('expired', { created: '2020-01-01T00:00:00Z', valid_until: '2021-01-01T00:00:00Z' });
    put('deprecated', { deprecated: { reason: 'CVE-2026-0001 in the kernel' } });
    put('refused', { checksums: { sha256: REFUSED_SUM } });
    put('toobig', { requires: { cores: 4, memory_mb: 256, disk_gb: 1 } });

    const all = [...KINDS, 'blocked'].map((k) => `img-${k}`);
    const maps = all.map((i) => `[image.${i}]\nid = ${i}\n`).join('');
    const images = `test-image ${all.join(' ')}`;
    return [
      {
        name: 'cloud-a',
        driver: 'local',
        gateway,
        images,
        extra: `${maps}\n[trust]\nendorsers = ${join(into, 'ada.pub.json')}\nrefuse_checksums = sha256:${REFUSED_SUM}\n\n[images]\nmetadata_dir = ${meta}\n`,
      },
      {
        name: 'cloud-b',
        driver: 'local',
        gateway,
        images,
        extra: `${maps}\n[trust]\nallow_unsigned = yes\nrefuse_images = img-blocked\n`,
      },
    ];
  };

  before(async () => {
    let started: CloudAgent[];
    ({ t, dir, alice, clouds: started } = await startE2e('cgt-image-trust-', stops, clouds));
    [a, b] = started as [CloudAgent, CloudAgent];
  });
  after(() => runStops(stops));

  test('refused images go to the cloud whose policy accepts them; one nobody accepts fails saying why', async () => {
    const A = a.config.raw.xmpp.jid;
    const B = b.config.raw.xmpp.jid;
    const g = await startGateway(t, {
      dir,
      clouds: [A, B],
      settings: { heartbeatTimeoutMs: 30_000, readyTimeoutMs: 40_000 },
    });
    stops.push(() => g.stop());
    await until('both clouds online', () => g.agent.peers('cloud').length === 2);

    // What cloud-a itself answers, image by image.
    const full = g.agent.peers('cloud').find((p) => p.bare === A)!.jid;
    const reason = async (image: string) => {
      const r = await g.agent.request(cloud.Discover, full, {
        owner: `alice@${t.host}`,
        groups: undefined,
        flavor: 'small',
        image,
        count: 1,
      });
      return r.accept ? 'accepted' : (r.reason ?? '');
    };
    assert.equal(await reason('img-good'), 'accepted');
    assert.match(
      await reason('img-unsigned'),
      /^image 'img-unsigned' refused: no signed metadata .*\[CG_IMAGE_UNSIGNED\]$/,
    );
    assert.match(
      await reason('img-untrusted'),
      /^image 'img-untrusted' refused: signed by no endorser this cloud trusts .*\[CG_IMAGE_UNKNOWN_KEY\]$/,
    );
    assert.match(await reason('img-tampered'), /does not match the payload \(tampered\) \[CG_IMAGE_TAMPERED\]$/);
    assert.match(await reason('img-expired'), /metadata expired at 2021-01-01T00:00:00Z \[CG_IMAGE_EXPIRED\]$/);
    assert.match(
      await reason('img-deprecated'),
      /deprecated by its endorser: CVE-2026-0001 in the kernel \[CG_IMAGE_DEPRECATED\]$/,
    );
    assert.match(await reason('img-refused'), /refuses its checksum cccccccccccccccc… \[CG_IMAGE_REFUSED\]$/);
    assert.match(
      await reason('img-toobig'),
      /flavor small \(1 core, 512 MB\) is below what image img-toobig@1\.2\.0 requires \(4 cores, 256 MB\) on cloud cloud-a$/,
    );

    await prepare(alice, g.agent.jid, clusterIni('images', KINDS));
    const id = (
      await alice.request(gw.Deploy, g.agent.jid, { cluster: 'images', counts: undefined, passphrase: undefined })
    ).deployment.id;
    const d = await until(
      `deployment ${id} completed`,
      async () => {
        const x = await status(alice, g.agent.jid, id);
        assert.notEqual(x.state, 'failed', JSON.stringify(g.model.events.list(id).map((e) => e.message)));
        return x.state === 'completed' ? x : undefined;
      },
      90_000,
      200,
    );
    const where = Object.fromEntries(
      d.instances.filter((i) => i.state !== 'terminated').map((i) => [i.service, i.cloud]),
    );
    assert.deepEqual(where, Object.fromEntries(KINDS.map((k) => [`s-${k}`, k === 'good' ? A : B])));
    assert.ok(d.instances.every((i) => i.ready));

    await prepare(alice, g.agent.jid, clusterIni('blocked', ['blocked']));
    const id2 = (
      await alice.request(gw.Deploy, g.agent.jid, { cluster: 'blocked', counts: undefined, passphrase: undefined })
    ).deployment.id;
    await until(
      'blocked deployment failed',
      async () => (await status(alice, g.agent.jid, id2)).state === 'failed',
      30_000,
      200,
    );
    const said = g.model.events
      .list(id2)
      .map((e) => e.message)
      .join('\n');
    assert.match(said, /image 'img-blocked' refused: no signed metadata/, said);
    assert.match(said, /image 'img-blocked' refused: this cloud refuses the image/, said);

    await alice.request(gw.Destroy, g.agent.jid, { deployment: id });
    await until(
      'no process left',
      async () => (await liveProcesses(a)).length + (await liveProcesses(b)).length === 0,
      30_000,
      200,
    );
  });
});
