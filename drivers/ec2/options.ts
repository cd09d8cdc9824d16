/**
 * Options of the ec2 driver (its INI section):
 *
 *   region             = eu-west-1       (required)
 *   endpoint           = http://...      EC2-compatible clouds (OpenStack ec2api, moto, ...)
 *   access_key_id      = ...             with secret_access_key (and optionally session_token);
 *   secret_access_key  = ...             without them the SDK's default chain (env, profile, IMDS) applies
 *   session_token      = ...
 *   subnet_id          = subnet-...      placement of new instances
 *   security_group_ids = sg-1 sg-2
 *   key_name           = ops-key
 *   image.<id>         = ami-...         one key per generic image, e.g. image.cernvm-4 = ami-0abc...
 *   flavor.<id>        = <instance type> [<cores> <memory_mb>]   replaces the defaults
 *                        (small=t3.small, medium=t3.medium, large=t3.xlarge); cores/memory may be
 *                        left out for the instance types listed in KNOWN_TYPES
 *   request_timeout_ms = 10000           per HTTP request
 *   max_attempts       = 3               SDK attempts per call (retries with backoff)
 *   page_size          = 500             DescribeInstances page size (5-1000)
 *   runs_agent         = true            the images run the instance agent from user-data
 */
import type { DriverFeature, DriverOptionSpec, Flavor, Image } from '../shared/index.js';
import { OptionReader } from '../shared/index.js';

export const EC2_OPTIONS: DriverOptionSpec = {
  keys: [
    'region',
    'endpoint',
    'access_key_id',
    'secret_access_key',
    'session_token',
    'subnet_id',
    'security_group_ids',
    'key_name',
    'request_timeout_ms',
    'max_attempts',
    'page_size',
    'runs_agent',
  ],
  prefixes: ['image', 'flavor'],
  secrets: ['access_key_id', 'secret_access_key', 'session_token'],
};

/** Every instance of the driver declares these but 'runs-agent', which follows runs_agent. */
export const EC2_FEATURES: readonly DriverFeature[] = ['userdata', 'tags', 'flavors', 'images', 'runs-agent'];

export interface Ec2Flavor extends Flavor {
  instanceType: string;
}
export interface Ec2Image extends Image {
  ami: string;
}
export interface Ec2Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Ec2Options {
  region: string;
  endpoint?: string;
  subnetId?: string;
  securityGroupIds: readonly string[];
  keyName?: string;
  images: readonly Ec2Image[];
  flavors: readonly Ec2Flavor[];
  requestTimeoutMs: number;
  maxAttempts: number;
  pageSize: number;
  runsAgent: boolean;
}

/** vCPUs and MiB of common types, so `flavor.x = m5.large` needs no numbers. */
const KNOWN_TYPES: Record<string, [number, number]> = {
  't3.nano': [2, 512],
  't3.micro': [2, 1024],
  't3.small': [2, 2048],
  't3.medium': [2, 4096],
  't3.large': [2, 8192],
  't3.xlarge': [4, 16384],
  't3.2xlarge': [8, 32768],
  'm5.large': [2, 8192],
  'm5.xlarge': [4, 16384],
  'm5.2xlarge': [8, 32768],
  'm5.4xlarge': [16, 65536],
  'c5.large': [2, 4096],
  'c5.xlarge': [4, 8192],
  'c5.2xlarge': [8, 16384],
  'c5.4xlarge': [16, 32768],
};

const DEFAULT_FLAVORS: ReadonlyArray<[string, string]> = [
  ['small', 't3.small'],
  ['medium', 't3.medium'],
  ['large', 't3.xlarge'],
];

function readFlavors(r: OptionReader): Ec2Flavor[] {
  const given = r.prefixed('flavor');
  const entries: Array<[string, string]> = given.size > 0 ? [...given] : [...DEFAULT_FLAVORS];
  return entries.map(([id, value]) => {
    const [instanceType, c, m, ...rest] = value.split(/\s+/);
    const known = KNOWN_TYPES[instanceType!];
    const cores = c === undefined ? known?.[0] : Number(c);
    const memoryMb = m === undefined ? known?.[1] : Number(m);
    if (
      rest.length > 0 ||
      (c !== undefined) !== (m !== undefined) ||
      !cores ||
      !memoryMb ||
      !Number.isInteger(cores) ||
      !Number.isInteger(memoryMb)
    ) {
      r.invalid(
        `flavor.${id}`,
        `must be "<instance type> <cores> <memory_mb>" (numbers optional for ${Object.keys(KNOWN_TYPES).join(', ')}), got "${value}"`,
      );
    }
    return { id, name: id, cores, memoryMb, instanceType: instanceType!, extra: { instanceType } };
  });
}

export function readEc2Options(raw: Readonly<Record<string, string>>): {
  options: Ec2Options;
  credentials?: Ec2Credentials;
} {
  const r: OptionReader = new OptionReader(raw, 'ec2');
  const endpoint = r.string('endpoint');
  if (endpoint !== undefined) {
    let ok = false;
    try {
      ok = /^https?:$/.test(new URL(endpoint).protocol);
    } catch {
      ok = false;
    }
    if (!ok) r.invalid('endpoint', 'must be an http:// or https:// URL');
  }
  const accessKeyId = r.secret('access_key_id');
  const secretAccessKey = r.secret('secret_access_key');
  const sessionToken = r.secret('session_token');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    r.invalid(
      accessKeyId === undefined ? 'access_key_id' : 'secret_access_key',
      'must be given together with its pair',
    );
  }
  if (sessionToken !== undefined && accessKeyId === undefined)
    r.invalid('session_token', 'needs access_key_id and secret_access_key');
  const images = [...r.prefixed('image')].map(([id, ami]) => {
    if (!/^ami-[0-9a-zA-Z]+$/.test(ami)) r.invalid(`image.${id}`, `must be an AMI id (ami-...), got "${ami}"`);
    return { id, name: id, ami, extra: { ami } };
  });
  if (images.length === 0)
    r.invalid('image.<id>', 'is required at least once (e.g. image.cernvm-4 = ami-0123456789abcdef0)');
  const options: Ec2Options = Object.freeze({
    region: r.required('region'),
    endpoint,
    subnetId: r.string('subnet_id'),
    securityGroupIds: Object.freeze(r.list('security_group_ids')),
    keyName: r.string('key_name'),
    images: Object.freeze(images),
    flavors: Object.freeze(readFlavors(r)),
    requestTimeoutMs: r.int('request_timeout_ms', 10_000, 100),
    maxAttempts: r.int('max_attempts', 3, 1),
    pageSize: r.int('page_size', 500, 5, 1000),
    runsAgent: r.bool('runs_agent', true),
  });
  const credentials =
    accessKeyId && secretAccessKey
      ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
      : undefined;
  return { options, credentials };
}
