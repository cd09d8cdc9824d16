/**
 * Domain XML (https://libvirt.org/formatdomain.html) built from a flavor, an image and
 * the instance's labels, and read back. The labels live in <metadata> under our own
 * namespace (formatdomain.html#general-metadata), which is how the driver tells its
 * domains from everything else on the host. The user-data never goes here: any client
 * with read access to the hypervisor can dump domain XML, and a context may hold tokens.
 */
import { Element, parse } from 'ltx';
import type { DomainType } from './options.js';

export const METADATA_NS = 'urn:cloudgate:libvirt:1';

export interface CloudgateMeta {
  flavor: string;
  image: string;
  createdAt: string;
  tags: Record<string, string>;
}

export interface DomainSpec {
  type: DomainType;
  name: string;
  uuid: string;
  cores: number;
  memoryMb: number;
  /** A disk image file, or for lxc the container's root directory. */
  image: { path: string; format: 'qcow2' | 'raw' };
  /** NoCloud ISO attached as a read-only cdrom (not for lxc). */
  isoPath?: string;
  /** lxc only: the config drive directory, mounted read-only where cloud-init's NoCloud looks. */
  seedDir?: string;
  network: string | null;
  transientDisk: boolean;
  meta: CloudgateMeta;
}

function metadata(meta: CloudgateMeta): Element {
  const cg = new Element('cg:cloudgate', { 'xmlns:cg': METADATA_NS });
  cg.c('cg:flavor').t(meta.flavor);
  cg.c('cg:image').t(meta.image);
  cg.c('cg:created').t(meta.createdAt);
  const tags = cg.c('cg:tags');
  for (const [k, v] of Object.entries(meta.tags)) tags.c('cg:tag', { name: k }).t(v);
  return new Element('metadata').cnode(cg).root();
}

function devices(s: DomainSpec): Element {
  const dev = new Element('devices');
  if (s.type === 'lxc') {
    dev.c('filesystem', { type: 'mount' }).c('source', { dir: s.image.path }).up().c('target', { dir: '/' });
    if (s.seedDir) {
      dev
        .c('filesystem', { type: 'mount' })
        .c('source', { dir: s.seedDir })
        .up()
        .c('target', { dir: '/var/lib/cloud/seed/nocloud' })
        .up()
        .c('readonly');
    }
  } else {
    const xen = s.type === 'xen';
    const disk = dev.c('disk', { type: 'file', device: 'disk' });
    disk.c('driver', { name: 'qemu', type: s.image.format });
    disk.c('source', { file: s.image.path });
    disk.c('target', xen ? { dev: 'xvda', bus: 'xen' } : { dev: 'vda', bus: 'virtio' });
    // Many instances boot from one image: qemu writes to a throw-away overlay instead of the base.
    if (s.transientDisk && (s.type === 'kvm' || s.type === 'qemu')) disk.c('transient', { shareBacking: 'yes' });
    if (s.isoPath) {
      const cd = dev.c('disk', { type: 'file', device: 'cdrom' });
      cd.c('driver', { name: 'qemu', type: 'raw' });
      cd.c('source', { file: s.isoPath });
      cd.c('target', xen ? { dev: 'hdc', bus: 'ide' } : { dev: 'sda', bus: 'sata' });
      cd.c('readonly');
    }
  }
  if (s.network) {
    const nic = dev.c('interface', { type: 'network' });
    nic.c('source', { network: s.network });
    if (s.type !== 'lxc' && s.type !== 'xen') nic.c('model', { type: 'virtio' });
  }
  dev.c('console', { type: 'pty' });
  return dev;
}

export function buildDomainXml(s: DomainSpec): string {
  const d = new Element('domain', { type: s.type });
  d.c('name').t(s.name);
  d.c('uuid').t(s.uuid);
  d.cnode(metadata(s.meta));
  d.c('memory', { unit: 'MiB' }).t(String(s.memoryMb));
  d.c('vcpu').t(String(s.cores));
  const os = d.c('os');
  if (s.type === 'lxc') {
    os.c('type').t('exe');
    os.c('init').t('/sbin/init');
  } else {
    os.c('type').t('hvm');
    os.c('boot', { dev: 'hd' });
    if (s.type !== 'test') d.c('features').c('acpi');
  }
  d.c('on_poweroff').t('destroy');
  d.c('on_crash').t('destroy');
  d.cnode(devices(s));
  return d.root().toString();
}

export interface ParsedDomain {
  name: string;
  uuid: string;
  /** Absent for domains that cloudgate did not create. */
  meta?: CloudgateMeta;
}

export function parseDomainXml(xml: string): ParsedDomain {
  const d = parse(xml) as Element;
  const name = d.getChildText('name') ?? '';
  const uuid = d.getChildText('uuid') ?? '';
  const cg = d.getChild('metadata')?.getChild('cloudgate', METADATA_NS);
  if (!cg) return { name, uuid };
  const tags: Record<string, string> = {};
  for (const t of cg.getChild('tags', METADATA_NS)?.getChildren('tag', METADATA_NS) ?? []) {
    const k = t.attrs.name;
    if (typeof k === 'string') tags[k] = t.getText();
  }
  return {
    name,
    uuid,
    meta: {
      flavor: cg.getChildText('flavor', METADATA_NS) ?? '',
      image: cg.getChildText('image', METADATA_NS) ?? '',
      createdAt: cg.getChildText('created', METADATA_NS) ?? '',
      tags,
    },
  };
}
