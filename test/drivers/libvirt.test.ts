import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hypervisor } from '@unraid/libvirt';
import { CloudError, loadDriver, type CloudDriver, type Instance } from '../../drivers/index.js';
import { ConfigError } from '../../core/errors.js';
import { alive, guestCommand, type Seen } from '../helpers/guest.js';
import { silentLogger } from '../helpers/log.js';
import { driverContract, eventually } from './contract.js';

const base = mkdtempSync(join(tmpdir(), 'cg-libvirt-'));
after(() => rmSync(base, { recursive: true, force: true }));

const URI = 'test:///default';
const NOT_PERSISTENT =
  'test:///default is an in-process hypervisor: its domains live only while some connection (or domain ' +
  'handle) in this process is open, and a restarted agent would find a fresh host with only the built-in "test" domain';

function options(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { uri: URI, config_drive_dir: dir, 'image.cernvm-4': '/var/lib/libvirt/images/cernvm4.qcow2', ...extra };
}

async function make(o: Record<string, string>): Promise<CloudDriver> {
  return (await loadDriver('libvirt'))(o, { log: silentLogger() });
}

function seen(inst: Instance): Promise<Seen> {
  const file = join(String((inst.extra.guest as { dir: string }).dir), 'root', 'seen.json');
  return eventually(
    'the simulated guest to record what it saw',
    async () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Seen) : undefined),
    10_000,
  );
}

const plainDir = join(base, 'plain');
driverContract('libvirt (test:///default)', () => make(options(plainDir)), {
  features: ['userdata', 'tags', 'capacity', 'flavors', 'images'],
  unknownId: '00000000-0000-4000-8000-000000000000',
  persistent: NOT_PERSISTENT,
  readUserData: async (inst) => readFileSync(join(plainDir, inst.name, 'user-data'), 'utf8'),
});

const simDir = join(base, 'sim');
driverContract(
  'libvirt (test:///default, simulate_guest)',
  () => make(options(simDir, { simulate_guest: 'true', command: guestCommand(base), kill_grace_ms: '1000' })),
  {
    features: ['userdata', 'tags', 'capacity', 'flavors', 'images', 'runs-agent'],
    unknownId: '00000000-0000-4000-8000-000000000000',
    persistent: NOT_PERSISTENT,
    readUserData: async (inst) => (await seen(inst)).drive ?? '',
  },
);

describe('libvirt driver on test:///default', () => {
  let driver: CloudDriver;
  let sim: CloudDriver;
  // A second, independent connection to look at what the driver did, as virsh would.
  const hv = new Hypervisor({ uri: URI });
  const dir = join(base, 'specific');
  const req = (name: string, userData = 'token=s3cr3t-value\n') => ({
    name,
    flavorId: 'medium',
    imageId: 'cernvm-4',
    userData,
    tags: { deployment: 'dep', service: 'svc', owner: 'bob' },
  });

  before(async () => {
    await hv.connectOpen();
    driver = await make(options(dir));
    sim = await make(
      options(join(base, 'specific-sim'), {
        simulate_guest: 'true',
        command: guestCommand(base),
        kill_grace_ms: '500',
      }),
    );
  });
  after(async () => {
    for (const d of [driver, sim]) {
      for (const i of await d.describe()) await d.terminate(i.id);
      await d.close();
    }
    await hv.connectClose();
  });

  it('rejects a config_drive_iso that is not auto, true or false', async () => {
    await assert.rejects(
      make(options(dir, { config_drive_iso: 'sometimes' })),
      /config_drive_iso.*auto, true or false/,
    );
  });

  it('rejects bad options naming the key', async () => {
    await assert.rejects(
      make({ config_drive_dir: dir, 'image.x': '/x' }),
      (e: Error) => e instanceof ConfigError && /"uri"/.test(e.message),
    );
    await assert.rejects(make({ uri: URI, 'image.x': '/x' }), /"config_drive_dir"/);
    await assert.rejects(make({ uri: URI, config_drive_dir: dir }), /"image\.<id>"/);
    await assert.rejects(make(options(dir, { 'image.rel': 'images/x.qcow2' })), /"image\.rel".*absolute/);
    await assert.rejects(make(options(dir, { simulate_guest: 'maybe' })), /"simulate_guest"/);
  });

  it('maps a failed connection to unavailable', async () => {
    // No libvirtd runs here, so qemu:///system cannot be reached.
    await assert.rejects(
      make(options(dir, { uri: 'qemu:///system' })),
      (e: Error) => e instanceof CloudError && e.kind === 'unavailable' && /connect/.test(e.message),
    );
  });

  it('defines the domain from flavor and image, with tags in metadata and never the user-data', async () => {
    const inst = await driver.create(req('vm-xml'));
    const xml = await (await hv.domainLookupByUUIDString(inst.id)).getXMLDesc();
    assert.match(xml, /<name>vm-xml<\/name>/);
    assert.match(xml, /<vcpu[^>]*>2<\/vcpu>/);
    assert.match(xml, /<memory unit='KiB'>2097152<\/memory>/);
    assert.match(xml, /cernvm4\.qcow2/);
    assert.match(xml, /xmlns:cg="urn:cloudgate:libvirt:1"/);
    assert.match(xml, /<cg:tag name="owner">bob<\/cg:tag>/);
    assert.doesNotMatch(xml, /s3cr3t/);
    assert.equal(inst.state, 'running');
    assert.equal(inst.providerState, 'running');
  });

  it('writes a NoCloud config drive (user-data 0600, meta-data) and removes it on terminate', async () => {
    const inst = await driver.create(req('vm-drive', 'ctx\n'));
    const drive = join(dir, 'vm-drive');
    assert.equal(readFileSync(join(drive, 'user-data'), 'utf8'), 'ctx\n');
    assert.equal(statSync(join(drive, 'user-data')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(drive, 'meta-data'), 'utf8'), `instance-id: ${inst.id}\nlocal-hostname: vm-drive\n`);
    await driver.terminate(inst.id);
    assert.equal(existsSync(drive), false);
    await assert.rejects(hv.domainLookupByUUIDString(inst.id), /not found/i);
  });

  it('lists only its own domains and refuses to touch foreign ones', async () => {
    const all = await driver.describe();
    assert.ok(!all.some((i) => i.name === 'test'), 'the built-in "test" domain is not ours');
    const foreign = await hv.domainLookupByName('test');
    const uuid = await foreign.getUUIDString();
    await assert.rejects(driver.terminate(uuid), (e: Error) => e instanceof CloudError && e.kind === 'invalid');
    assert.equal((await foreign.getInfo()).state, 1, 'still running');
    await assert.rejects(driver.create(req('test')), /not managed by cloudgate/);
    assert.deepEqual(await driver.describe([uuid]), []);
  });

  it('normalizes states as the domain changes, and reports terminated domains as gone', async () => {
    const inst = await driver.create(req('vm-state'));
    const dom = await hv.domainLookupByUUIDString(inst.id);
    await dom.suspend();
    let [i] = await driver.describe([inst.id]);
    assert.deepEqual([i?.state, i?.providerState], ['stopping', 'paused']);
    await dom.resume();
    await dom.destroy();
    [i] = await driver.describe([inst.id]);
    assert.deepEqual([i?.state, i?.providerState], ['stopping', 'shutoff']);
    await driver.terminate(inst.id);
    assert.deepEqual(await driver.describe([inst.id]), []);
  });

  it('capacity() follows node info minus active domains', async () => {
    const before = await driver.capacity!();
    const inst = await driver.create(req('vm-cap'));
    const after = await driver.capacity!();
    assert.equal(before.cores! - after.cores!, 2);
    await driver.terminate(inst.id);
    assert.deepEqual(await driver.capacity!(), before);
  });

  it('simulate_guest: the process reads the config drive, not a context file, and stops on terminate', async () => {
    const inst = await sim.create(req('vm-sim', 'sim-context\n'));
    const s = await seen(inst);
    assert.equal(s.configDrive, join(base, 'specific-sim', 'vm-sim'));
    assert.equal(s.drive, 'sim-context\n');
    assert.equal(s.contextFile, null);
    assert.equal(s.instanceId, inst.id);
    await sim.terminate(inst.id);
    assert.equal(alive(s.pid), false);
    assert.equal(existsSync(String((inst.extra.guest as { dir: string }).dir)), false);
  });

  it('simulate_guest: a guest that dies on its own turns the instance to error', async () => {
    const crash = await make(
      options(join(base, 'crash'), { simulate_guest: 'true', command: guestCommand(base, 'exit3') }),
    );
    try {
      const inst = await crash.create(req('vm-crash'));
      const i = await eventually(
        'error state',
        async () => {
          const [x] = await crash.describe([inst.id]);
          return x?.state === 'error' ? x : undefined;
        },
        10_000,
      );
      assert.equal((i.extra.guest as { exitCode: number }).exitCode, 3);
      assert.equal(i.providerState, 'running', 'libvirt still says running; the guest is what died');
      await crash.terminate(inst.id);
    } finally {
      await crash.close();
    }
  });

  it('builds a cidata ISO with genisoimage when one is on PATH and attaches it as a read-only cdrom', async () => {
    // A stand-in genisoimage (first on PATH) records its arguments. The test hypervisor
    // gets no ISO unless config_drive_iso asks for one (checked below).
    const bin = join(base, 'bin');
    mkdirSync(bin, { recursive: true });
    const fake = join(bin, 'genisoimage');
    writeFileSync(
      fake,
      '#!/bin/sh\nout=""; while [ $# -gt 0 ]; do [ "$1" = "-output" ] && out="$2"; echo "$1" >> "$CG_ISO_ARGS"; shift; done\necho ISO > "$out"\n',
    );
    chmodSync(fake, 0o755);
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}${delimiter}${oldPath}`;
    process.env.CG_ISO_ARGS = join(base, 'iso-args');
    const isoDriver = await make(options(dir, { config_drive_iso: 'true' }));
    try {
      const plain = await driver.create(req('vm-no-iso'));
      assert.equal(existsSync(join(dir, 'vm-no-iso.iso')), false, 'auto: no ISO for the test hypervisor');
      assert.equal(existsSync(join(dir, 'vm-no-iso', 'user-data')), true, 'the config drive directory is written');
      assert.doesNotMatch(await (await hv.domainLookupByUUIDString(plain.id)).getXMLDesc(), /device='cdrom'/);
      await driver.terminate(plain.id);
      const inst = await isoDriver.create(req('vm-iso'));
      const iso = join(dir, 'vm-iso.iso');
      assert.equal(readFileSync(iso, 'utf8'), 'ISO\n');
      const args = readFileSync(join(base, 'iso-args'), 'utf8').split('\n');
      assert.equal(args[args.indexOf('-volid') + 1], 'cidata');
      assert.ok(args.some((a) => a.endsWith('/vm-iso/user-data')) && args.some((a) => a.endsWith('/vm-iso/meta-data')));
      const xml = await (await hv.domainLookupByUUIDString(inst.id)).getXMLDesc();
      assert.match(
        xml,
        new RegExp(`<disk type='file' device='cdrom'>[\\s\\S]*<source file='${iso}'/>[\\s\\S]*<readonly/>`),
      );
      await isoDriver.terminate(inst.id);
      assert.equal(existsSync(iso), false);
    } finally {
      await isoDriver.close();
      process.env.PATH = oldPath;
      delete process.env.CG_ISO_ARGS;
    }
  });

  it('describe(ids) tolerates malformed and unknown uuids', async () => {
    assert.deepEqual(await driver.describe(['not-a-uuid', randomUUID()]), []);
    await driver.terminate('not-a-uuid');
  });
});
