/**
 * Image metadata at the gateway: a cluster definition is checked when it is stored (a
 * flavor below its image's requirements is refused with the numbers) and a service may
 * name its image by what it provides. A real gateway over a real ejabberd.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadImageRegistry, parseGatewayConfig, type Gateway, type ImageRegistry } from '../../agents/gateway/index.js';
import { gateway as gw, StanzaError } from '../../protocols/index.js';
import {
  IMAGE_METADATA_TYPE,
  encodeEnvelope,
  generateEndorserKey,
  makeEndorserFile,
  signEnvelope,
} from '../../images/index.js';
import { capturingLogger } from '../helpers/log.js';
import { bytesOf, sampleMetadata } from '../images/sample.js';
import { engineSuite, startGateway, until } from './harness.js';

describe('image metadata in cluster definitions', { timeout: 120_000 }, () => {
  const s = engineSuite('cgt-gw-images-');
  let g: Gateway;
  let registry: ImageRegistry;
  let lines: string[];

  before(async () => {
    const ada = generateEndorserKey();
    const dir = join(s.dir, 'meta');
    mkdirSync(dir);
    writeFileSync(join(s.dir, 'ada.pub.json'), JSON.stringify(makeEndorserFile(ada, 'Ada', 'ada@example.org')));
    const put = (name: string, over: Record<string, unknown>, key = ada) =>
      writeFileSync(
        join(dir, `${name}.json`),
        encodeEnvelope(signEnvelope(IMAGE_METADATA_TYPE, bytesOf(sampleMetadata({ name, ...over })), key)),
      );
    put('alma9-condor', {
      provides: [{ name: 'htcondor', version: '23.0.4' }],
      requires: { cores: 2, memory_mb: 2048, disk_gb: 20 },
    });
    put('alma9-condor24', {
      provides: [{ name: 'htcondor', version: '24.1' }],
      requires: { cores: 1, memory_mb: 1024, disk_gb: 20 },
    });
    put('rogue', {}, generateEndorserKey());
    put('old', { created: '2020-01-01T00:00:00Z', valid_until: '2021-01-01T00:00:00Z' });
    const c = capturingLogger();
    lines = c.lines;
    registry = loadImageRegistry({
      endorsers: [join(s.dir, 'ada.pub.json')],
      metadataDir: dir,
      log: c.log,
      where: 'gateway.ini [images]',
    });
    g = await startGateway(s.t, { dir: s.dir, clouds: [], images: registry });
    s.running.push(g);
  });

  const put = (ini: string) => s.alice.request(gw.PutCluster, g.agent.jid, { definition: ini });
  const cluster = (flavor: string, image: string) =>
    `[cluster]\nname = c1\n\n[service.head]\ntype = fixed\nflavor = ${flavor}\nimage = ${image}\n`;

  test('[images] in the gateway INI: paths relative to the file', () => {
    const cfg = parseGatewayConfig(
      '[xmpp]\njid = gw@example.org\npassword = pw-123456\n[gateway]\n[images]\nendorsers = keys/a.pub.json, /k/b.pub.json\nmetadata_dir = images.d\n',
      '/etc/cg/gateway.ini',
    );
    assert.deepEqual(cfg.images, {
      endorsers: ['/etc/cg/keys/a.pub.json', '/k/b.pub.json'],
      metadata_dir: '/etc/cg/images.d',
    });
  });

  test('only metadata signed by its endorsers and valid now is used; the rest is logged', () => {
    assert.deepEqual(registry.images.map((m) => m.name).sort(), ['alma9-condor', 'alma9-condor24']);
    assert.ok(
      lines.some((l) => /rogue\.json.*CG_IMAGE_UNKNOWN_KEY/.test(l)),
      lines.join(''),
    );
    assert.ok(lines.some((l) => /old\.json.*CG_IMAGE_EXPIRED/.test(l)));
  });

  test('a flavor below the image requirements is refused when the definition is stored, with the numbers', async () => {
    await assert.rejects(
      put(cluster('small', 'alma9-condor')),
      (e: unknown) =>
        e instanceof StanzaError &&
        e.condition === 'bad-request' &&
        e.app === 'invalid-field' &&
        /\[service\.head\] flavor: flavor small \(1 core, 2048 MB\) is below what image alma9-condor@1\.2\.0 requires \(2 cores, 2048 MB\)/.test(
          e.message,
        ),
    );
    await assert.rejects(
      put(cluster('cores:4,memory:1024', 'alma9-condor')),
      /flavor cores:4,memory:1024 \(4 cores, 1024 MB\) is below .* \(2 cores, 2048 MB\)/,
    );
    assert.equal(g.model.clusters.get(`alice@${s.t.host}`, 'c1'), undefined);
    await put(cluster('medium', 'alma9-condor'));
    // An image the gateway has no metadata for is left to the clouds.
    await put(cluster('small', 'test-image'));
  });

  test('a service asks for an image by what it provides; the definition stores the chosen name', async () => {
    await put(cluster('small', 'os:alma9,app:htcondor>=23'));
    await until(
      'stored',
      () => g.model.clusters.get(`alice@${s.t.host}`, 'c1')?.definition.services[0]?.image === 'alma9-condor24',
    );
    await assert.rejects(
      put(cluster('small', 'os:alma9,app:htcondor>=23,app:htcondor<24')),
      /flavor small \(1 core, 2048 MB\) is below what image alma9-condor@1\.2\.0 requires/,
    );
    await assert.rejects(
      put(cluster('small', 'os:alma9,app:htcondor>=30')),
      /\[service\.head\] image: no image known to the gateway matches 'os:alma9,app:htcondor>=30' \(known: alma9-condor@1\.2\.0, alma9-condor24@1\.2\.0\)/,
    );
    await assert.rejects(put(cluster('small', 'os:alma9,app:')), /image query term 'app:'/);
  });
});
