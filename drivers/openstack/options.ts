/**
 * Options of the openstack driver (its INI section); examples/cloud-openstack.ini shows
 * each with a comment. Authentication is either a user's password (project-scoped) or an
 * application credential (scoped by Keystone itself).
 */
import type { DriverFeature, DriverOptionSpec } from '../shared/index.js';
import { OptionReader } from '../shared/index.js';

export const OPENSTACK_OPTIONS: DriverOptionSpec = {
  keys: [
    'auth_url',
    'region',
    'interface',
    'username',
    'user_id',
    'password',
    'user_domain',
    'project_name',
    'project_id',
    'project_domain',
    'application_credential_id',
    'application_credential_secret',
    'compute_microversion',
    'networks',
    'security_groups',
    'key_name',
    'availability_zone',
    'request_timeout_ms',
    'token_renew_before_s',
    'page_size',
    'runs_agent',
  ],
  prefixes: ['image', 'flavor'],
  secrets: ['password', 'application_credential_secret'],
};

export const OPENSTACK_FEATURES: readonly DriverFeature[] = [
  'userdata',
  'tags',
  'capacity',
  'flavors',
  'images',
  'runs-agent',
];

export type OpenStackAuth =
  | {
      method: 'password';
      user: { name?: string; id?: string; domain: string };
      password: string;
      project: { name?: string; id?: string; domain: string };
    }
  | { method: 'application_credential'; id: string; secret: string };

/** A generic flavor: the cloud's own flavor by name or id, or the smallest that fits a size. */
export type FlavorSpec =
  | { id: string; kind: 'ref'; ref: string }
  | { id: string; kind: 'size'; cores: number; memoryMb: number; diskGb?: number };

export interface OpenStackOptions {
  authUrl: string;
  region?: string;
  interface: 'public' | 'internal' | 'admin';
  /** "2.N": every compute call asks for exactly this microversion. */
  computeMicroversion: string;
  /** "none", "auto", or network ids each new server is attached to. */
  networks: 'none' | 'auto' | readonly string[];
  securityGroups: readonly string[];
  keyName?: string;
  availabilityZone?: string;
  /** Generic image id → the cloud's image name or id; empty: every active Glance image under its own name. */
  images: ReadonlyMap<string, string>;
  flavors: readonly FlavorSpec[];
  requestTimeoutMs: number;
  tokenRenewBeforeMs: number;
  pageSize: number;
  runsAgent: boolean;
}

/** Without flavor.* keys: the generic sizes, each as the smallest cloud flavor that holds it. */
const DEFAULT_SIZES: readonly FlavorSpec[] = [
  { id: 'small', kind: 'size', cores: 1, memoryMb: 512 },
  { id: 'medium', kind: 'size', cores: 2, memoryMb: 2048 },
  { id: 'large', kind: 'size', cores: 4, memoryMb: 8192 },
];

/** Networks (>= 2.37) are required on every create; below that this driver is not tested. */
const MIN_MICROVERSION = 37;

function readFlavor(r: OptionReader, id: string, value: string): FlavorSpec {
  if (!value.includes(':')) return { id, kind: 'ref', ref: value };
  const parts = new Map<string, number>();
  for (const item of value.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(cores|memory|disk):(\d+)$/.exec(item);
    if (!m || parts.has(m[1]!))
      r.invalid(
        `flavor.${id}`,
        `must be a flavor name or id, or "cores:<n>,memory:<MiB>[,disk:<GiB>]", got "${value}"`,
      );
    parts.set(m[1]!, Number(m[2]));
  }
  const cores = parts.get('cores');
  const memoryMb = parts.get('memory');
  if (!cores || !memoryMb) r.invalid(`flavor.${id}`, `needs both cores:<n> and memory:<MiB> above 0, got "${value}"`);
  return { id, kind: 'size', cores, memoryMb, diskGb: parts.get('disk') };
}

function readAuth(r: OptionReader): OpenStackAuth {
  const acId = r.string('application_credential_id');
  const acSecret = r.secret('application_credential_secret');
  const password = r.secret('password');
  if (acId !== undefined || acSecret !== undefined) {
    if (acId === undefined || acSecret === undefined)
      r.invalid(
        acId === undefined ? 'application_credential_id' : 'application_credential_secret',
        'must be given together with its pair',
      );
    if (password !== undefined) r.invalid('password', 'cannot be combined with an application credential');
    return { method: 'application_credential', id: acId, secret: acSecret };
  }
  if (password === undefined)
    r.invalid('password', 'is required (or application_credential_id and application_credential_secret)');
  const user = { name: r.string('username'), id: r.string('user_id'), domain: r.string('user_domain', 'Default') };
  if (!user.name && !user.id) r.invalid('username', 'is required with a password (or user_id)');
  const project = {
    name: r.string('project_name'),
    id: r.string('project_id'),
    domain: r.string('project_domain', 'Default'),
  };
  if (!project.name && !project.id) r.invalid('project_name', 'is required with a password (or project_id)');
  return { method: 'password', user, password, project };
}

function httpUrl(r: OptionReader, key: string): string {
  const v = r.required(key);
  let ok = false;
  try {
    ok = /^https?:$/.test(new URL(v).protocol);
  } catch {
    ok = false;
  }
  if (!ok) r.invalid(key, 'must be an http:// or https:// URL');
  return v.replace(/\/+$/, '');
}

export function readOpenStackOptions(raw: Readonly<Record<string, string>>): {
  options: OpenStackOptions;
  auth: OpenStackAuth;
} {
  const r = new OptionReader(raw, 'openstack');
  const authUrl = httpUrl(r, 'auth_url');
  const iface = r.string('interface', 'public');
  if (!['public', 'internal', 'admin'].includes(iface))
    r.invalid('interface', `must be public, internal or admin, got "${iface}"`);
  const mv = r.string('compute_microversion', '2.67');
  const mvm = /^2\.(\d+)$/.exec(mv);
  if (!mvm || Number(mvm[1]) < MIN_MICROVERSION)
    r.invalid('compute_microversion', `must be "2.<n>" with n >= ${MIN_MICROVERSION}, got "${mv}"`);
  const nets = r.list('networks', ['none']);
  if (nets.length > 1 && nets.some((n) => n === 'none' || n === 'auto'))
    r.invalid('networks', 'is "none", "auto", or a list of network ids');
  const flavorEntries = [...r.prefixed('flavor')];
  const options: OpenStackOptions = Object.freeze({
    authUrl,
    region: r.string('region'),
    interface: iface as OpenStackOptions['interface'],
    computeMicroversion: mv,
    networks: nets[0] === 'none' || nets[0] === 'auto' ? (nets[0] as 'none' | 'auto') : Object.freeze(nets),
    securityGroups: Object.freeze(r.list('security_groups')),
    keyName: r.string('key_name'),
    availabilityZone: r.string('availability_zone'),
    images: r.prefixed('image'),
    flavors: Object.freeze(
      flavorEntries.length
        ? flavorEntries.map(([id, v]) => readFlavor(r, id, v))
        : DEFAULT_SIZES.map((f) => ({ ...f })),
    ),
    requestTimeoutMs: r.int('request_timeout_ms', 30_000, 100),
    tokenRenewBeforeMs: r.int('token_renew_before_s', 300, 0, 86_400) * 1000,
    pageSize: r.int('page_size', 500, 5, 1000),
    runsAgent: r.bool('runs_agent', true),
  });
  return { options, auth: readAuth(r) };
}
