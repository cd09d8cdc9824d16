/**
 * Options of the libvirt driver (its INI section):
 *
 *   uri              = qemu:///system      (required) any libvirt URI: qemu:///system, xen:///,
 *                                          lxc:///, qemu+ssh://host/system, test:///default
 *   config_drive_dir = /var/lib/libvirt/cloudgate   (required) where per-instance config drives live;
 *                      must be traversable by the hypervisor's user (libvirt relabels the ISO itself)
 *   image.<id>       = <absolute path>     one key per generic image id, e.g.
 *                      image.cernvm-4 = /var/lib/libvirt/images/cernvm4.qcow2
 *                      The disk format follows the extension (.qcow2 → qcow2, anything else → raw);
 *                      for lxc:// the path is the container's root directory.
 *   flavor.<id>      = <cores> <memory_mb> replaces the default small/medium/large set
 *   network          = default             libvirt network for the NIC; "none" for no NIC
 *   domain_type      = kvm                 <domain type>: default kvm for qemu URIs, else the URI scheme
 *   transient_disk   = true                qemu/kvm: boot every instance from the shared image with
 *                                          <transient shareBacking='yes'/> so none writes to the base
 *   config_drive_iso = auto                also write the config drive as a cidata ISO attached as a cdrom
 *                                          (needs genisoimage, mkisofs or xorriso): auto = for kvm, qemu
 *                                          and xen guests; an lxc container and the test hypervisor read
 *                                          the directory, so they get none
 *   simulate_guest   = false               also run the instance agent as a local process (for test: URIs)
 *   command          = ...                 program that process runs (as in the local driver)
 *   kill_grace_ms    = 5000                SIGTERM → SIGKILL delay for the simulated guest
 *   runs_agent       = ...                 declare 'runs-agent' (default: simulate_guest on test: URIs,
 *                                          true elsewhere, where the image is expected to run the agent)
 */
import { isAbsolute, resolve } from 'node:path';
import type { DriverFeature, DriverOptionSpec, Flavor, Image } from '../shared/index.js';
import { readCommand } from '../shared/index.js';
import { readFlavors } from '../shared/index.js';
import { OptionReader } from '../shared/index.js';

export type DomainType = 'kvm' | 'qemu' | 'xen' | 'lxc' | 'test';
const DOMAIN_TYPES: readonly DomainType[] = ['kvm', 'qemu', 'xen', 'lxc', 'test'];

export interface LibvirtImage extends Image {
  path: string;
  format: 'qcow2' | 'raw';
}

export const LIBVIRT_OPTIONS: DriverOptionSpec = {
  keys: [
    'uri',
    'config_drive_dir',
    'network',
    'domain_type',
    'transient_disk',
    'config_drive_iso',
    'simulate_guest',
    'command',
    'kill_grace_ms',
    'runs_agent',
  ],
  prefixes: ['image', 'flavor'],
  secrets: [],
};

/** Every instance of the driver declares these but 'runs-agent', which follows runs_agent. */
export const LIBVIRT_FEATURES: readonly DriverFeature[] = [
  'userdata',
  'tags',
  'capacity',
  'flavors',
  'images',
  'runs-agent',
];

export interface LibvirtOptions {
  uri: string;
  domainType: DomainType;
  configDriveDir: string;
  images: readonly LibvirtImage[];
  flavors: readonly Flavor[];
  network: string | null;
  transientDisk: boolean;
  /** Build the cidata ISO too (config_drive_iso). */
  configDriveIso: boolean;
  simulateGuest: boolean;
  command: readonly string[];
  killGraceMs: number;
  runsAgent: boolean;
}

export function readLibvirtOptions(raw: Readonly<Record<string, string>>): LibvirtOptions {
  const r: OptionReader = new OptionReader(raw, 'libvirt');
  const uri = r.required('uri');
  const m = /^([a-z][a-z0-9]*)(\+[a-z0-9]+)?:\/\//i.exec(uri);
  if (!m) r.invalid('uri', 'must look like driver[+transport]://[host]/path');
  const scheme = m[1]!.toLowerCase();
  const fallbackType: DomainType =
    scheme === 'qemu' ? 'kvm' : (DOMAIN_TYPES as readonly string[]).includes(scheme) ? (scheme as DomainType) : 'kvm';
  const domainType = r.string('domain_type', fallbackType) as DomainType;
  if (!DOMAIN_TYPES.includes(domainType)) r.invalid('domain_type', `must be one of ${DOMAIN_TYPES.join(', ')}`);

  const images: LibvirtImage[] = [...r.prefixed('image')].map(([id, path]) => {
    if (!isAbsolute(path)) r.invalid(`image.${id}`, `must be an absolute path, got "${path}"`);
    return { id, name: id, path, format: /\.qcow2$/i.test(path) ? 'qcow2' : 'raw', extra: { path } };
  });
  if (images.length === 0)
    r.invalid('image.<id>', 'is required at least once (e.g. image.cernvm-4 = /var/lib/libvirt/images/cernvm4.qcow2)');

  const network = r.string('network', 'default');
  const simulateGuest = r.bool('simulate_guest', false);
  return Object.freeze({
    uri,
    domainType,
    configDriveDir: resolve(r.required('config_drive_dir')),
    images: Object.freeze(images),
    flavors: Object.freeze(readFlavors(r)),
    network: network === 'none' ? null : network,
    transientDisk: r.bool('transient_disk', true),
    configDriveIso: readIsoChoice(r, domainType),
    simulateGuest,
    command: Object.freeze(readCommand(r)),
    killGraceMs: r.int('kill_grace_ms', 5000),
    runsAgent: r.bool('runs_agent', scheme === 'test' ? simulateGuest : true),
  });
}

/**
 * config_drive_iso: auto, true or false. Building an ISO runs a program per instance (the
 * biggest part of a create on the test hypervisor), so it is done only for guests that
 * boot from disks and read their context from a cdrom.
 */
function readIsoChoice(r: OptionReader, type: DomainType): boolean {
  const v = r.string('config_drive_iso', 'auto').toLowerCase();
  if (v === 'auto') return type === 'kvm' || type === 'qemu' || type === 'xen';
  if (v === 'true' || v === 'yes' || v === '1') return true;
  if (v === 'false' || v === 'no' || v === '0') return false;
  return r.invalid('config_drive_iso', `must be auto, true or false, got "${v}"`);
}
