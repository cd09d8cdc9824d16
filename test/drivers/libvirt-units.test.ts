/** Pure parts of the libvirt driver: domain XML, state map, error mapping. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LibvirtError } from '@unraid/libvirt';
import { parse } from 'ltx';
import { CloudError } from '../../drivers/index.js';
import { buildDomainXml, METADATA_NS, parseDomainXml, type DomainSpec } from '../../drivers/libvirt/domain-xml.js';
import { libvirtErrorKind, mapLibvirtError } from '../../drivers/libvirt/errors.js';
import { normalizeDomainState } from '../../drivers/libvirt/states.js';

const spec: DomainSpec = {
  type: 'kvm',
  name: 'vm-1',
  uuid: '6f1c2d4e-0000-4000-8000-000000000001',
  cores: 2,
  memoryMb: 2048,
  image: { path: '/img/cernvm4.qcow2', format: 'qcow2' },
  isoPath: '/cd/vm-1.iso',
  network: 'default',
  transientDisk: true,
  meta: {
    flavor: 'medium',
    image: 'cernvm-4',
    createdAt: '2024-01-01T00:00:00.000Z',
    tags: { deployment: 'd<&>"', service: 's', owner: 'o' },
  },
};

describe('libvirt domain XML', () => {
  it('kvm: virtio disk on a transient overlay, cidata cdrom read-only, NIC, metadata in our namespace', () => {
    const d = parse(buildDomainXml(spec));
    assert.equal(d.attrs.type, 'kvm');
    assert.equal(d.getChildText('vcpu'), '2');
    assert.equal(d.getChild('memory')?.attrs.unit, 'MiB');
    const disks = d.getChild('devices')!.getChildren('disk');
    assert.equal(disks[0]!.getChild('source')!.attrs.file, '/img/cernvm4.qcow2');
    assert.equal(disks[0]!.getChild('driver')!.attrs.type, 'qcow2');
    assert.equal(disks[0]!.getChild('transient')!.attrs.shareBacking, 'yes');
    assert.equal(disks[1]!.attrs.device, 'cdrom');
    assert.ok(disks[1]!.getChild('readonly'));
    assert.equal(d.getChild('devices')!.getChild('interface')!.getChild('source')!.attrs.network, 'default');
    assert.ok(d.getChild('metadata')!.getChild('cloudgate', METADATA_NS));
  });

  it('round-trips name, uuid and escaped tags', () => {
    const p = parseDomainXml(buildDomainXml(spec));
    assert.equal(p.name, 'vm-1');
    assert.equal(p.uuid, spec.uuid);
    assert.deepEqual(p.meta, spec.meta);
  });

  it('lxc: root filesystem and the config drive mounted where NoCloud looks', () => {
    const d = parse(
      buildDomainXml({
        ...spec,
        type: 'lxc',
        image: { path: '/srv/rootfs', format: 'raw' },
        isoPath: undefined,
        seedDir: '/cd/vm-1',
      }),
    );
    assert.equal(d.getChild('os')!.getChildText('type'), 'exe');
    const fs = d.getChild('devices')!.getChildren('filesystem');
    assert.deepEqual(
      fs.map((f) => [f.getChild('source')!.attrs.dir, f.getChild('target')!.attrs.dir]),
      [
        ['/srv/rootfs', '/'],
        ['/cd/vm-1', '/var/lib/cloud/seed/nocloud'],
      ],
    );
    assert.equal(d.getChild('devices')!.getChildren('disk').length, 0);
  });

  it('xen: xvda disk, ide cdrom, no qemu-only transient overlay', () => {
    const d = parse(buildDomainXml({ ...spec, type: 'xen' }));
    const [disk, cd] = d.getChild('devices')!.getChildren('disk');
    assert.equal(disk!.getChild('target')!.attrs.dev, 'xvda');
    assert.equal(disk!.getChild('transient'), undefined);
    assert.equal(cd!.getChild('target')!.attrs.bus, 'ide');
  });

  it('a domain without our metadata parses with no meta', () => {
    assert.equal(parseDomainXml("<domain type='test'><name>test</name><uuid>u</uuid></domain>").meta, undefined);
  });
});

describe('libvirt state map', () => {
  it('maps every virDomainState, with an unknown fallback', () => {
    const got = [0, 1, 2, 3, 4, 5, 6, 7, 99].map((c) => normalizeDomainState(c));
    assert.deepEqual(
      got.map((g) => g.state),
      ['pending', 'running', 'running', 'stopping', 'stopping', 'stopping', 'error', 'stopping', 'unknown'],
    );
    assert.deepEqual(
      got.map((g) => g.providerState),
      ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended', 'state-99'],
    );
  });
});

describe('libvirt error mapping', () => {
  const err = (msg: string, code = -1) => new LibvirtError(msg, code, -1, -1);
  const cases: Array<[LibvirtError, string]> = [
    [err("Domain not found: no domain with matching uuid 'x'"), 'not-found'],
    [err('anything', 42), 'not-found'],
    [err('authentication failed: Failed to start SASL negotiation'), 'auth'],
    [err('access denied: polkit', 88), 'auth'],
    [err("Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory"), 'unavailable'],
    [err('End of file while reading data: Input/output error'), 'unavailable'],
    [err('internal error: cannot allocate memory for guest'), 'capacity'],
    [err("operation failed: domain 'x' already exists with uuid y"), 'invalid'],
    [err('XML error: missing name information'), 'invalid'],
    [err('something nobody expected'), 'unavailable'],
  ];
  for (const [e, kind] of cases) {
    it(`${JSON.stringify(e.message)} (code ${e.code}) → ${kind}`, () => assert.equal(libvirtErrorKind(e), kind));
  }

  it('builds a CloudError that hides URI user info and carries no raw cause', () => {
    const m = mapLibvirtError(
      err('Cannot recv data: ssh: connect to qemu+ssh://admin:hunter2@host/system refused'),
      'connect',
    );
    assert.ok(m instanceof CloudError);
    assert.equal(m.code, 'CG_CLOUD_UNAVAILABLE');
    assert.doesNotMatch(m.message, /hunter2|admin/);
    assert.match(m.message, /qemu\+ssh:\/\/\*\*\*@host/);
    assert.equal(m.cause, undefined);
  });
});
