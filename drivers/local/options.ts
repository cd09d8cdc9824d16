/**
 * Options of the local driver (its INI section):
 *
 *   state_dir       = /var/lib/cloudgate/local   (required) one sub-directory per instance
 *   command         = node /opt/agent.js --x    program + args each instance runs, split like
 *                                               a shell would (default: this repo's instance agent)
 *   max_instances   = 50       capacity: instances, cores and memory this host may give out
 *   cores           = 64
 *   memory_mb       = 65536
 *   flavor.<id>     = <cores> <memory_mb>       replaces the default small/medium/large set
 *   images          = cernvm-4 local            generic image ids accepted (the image is only a label here)
 *   kill_grace_ms   = 5000     SIGTERM → SIGKILL delay on terminate
 *   retain_terminated_s = 3600 how long terminated instances stay visible before their directory is removed
 *   shared          = false    true: instances run as `run_as`, not as the cloud agent's user
 *                              (needed for an [acl] beyond the cloud's admins; the agent must run as root)
 *   run_as          = nobody   with shared: the unprivileged user (name or uid[:gid]) instances run as
 */
import { resolve } from 'node:path';
import type { DriverFeature, DriverOptionSpec, Flavor, Image } from '../shared/index.js';
import { readCommand } from '../shared/index.js';
import { readFlavors } from '../shared/index.js';
import { OptionReader } from '../shared/index.js';
import { lookupUser, type GuestUser } from './guest-user.js';

export const LOCAL_OPTIONS: DriverOptionSpec = {
  keys: [
    'state_dir',
    'command',
    'max_instances',
    'cores',
    'memory_mb',
    'images',
    'kill_grace_ms',
    'retain_terminated_s',
    'shared',
    'run_as',
  ],
  prefixes: ['flavor'],
  secrets: [],
};

export const LOCAL_FEATURES: readonly DriverFeature[] = [
  'userdata',
  'tags',
  'capacity',
  'flavors',
  'images',
  'runs-agent',
];

export interface LocalOptions {
  stateDir: string;
  command: readonly string[];
  maxInstances: number;
  cores: number;
  memoryMb: number;
  flavors: readonly Flavor[];
  images: readonly Image[];
  killGraceMs: number;
  retainTerminatedMs: number;
  /** Set with `shared = true`: every instance process runs as this user. */
  runAs?: GuestUser;
}

export function readLocalOptions(raw: Readonly<Record<string, string>>): LocalOptions {
  const r: OptionReader = new OptionReader(raw, 'local');
  const imageIds = r.list('images', ['cernvm-4', 'local']);
  if (imageIds.length === 0) r.invalid('images', 'lists no image');
  return Object.freeze({
    stateDir: resolve(r.required('state_dir')),
    command: Object.freeze(readCommand(r)),
    maxInstances: r.int('max_instances', 50, 1),
    cores: r.int('cores', 64, 1),
    memoryMb: r.int('memory_mb', 65536, 1),
    flavors: Object.freeze(readFlavors(r)),
    images: Object.freeze(imageIds.map((id) => ({ id, name: id }))),
    killGraceMs: r.int('kill_grace_ms', 5000),
    retainTerminatedMs: r.int('retain_terminated_s', 3600) * 1000,
    runAs: readRunAs(r),
  });
}

function readRunAs(r: OptionReader): GuestUser | undefined {
  if (!r.bool('shared', false)) {
    if (r.has('run_as')) r.invalid('run_as', 'is used only with shared = true');
    return undefined;
  }
  const u = lookupUser(r.string('run_as', 'nobody'));
  if (typeof u === 'string') r.invalid('run_as', u);
  if (u.uid === 0) r.invalid('run_as', `must be an unprivileged user, not "${u.name}" (uid 0)`);
  const self = process.getuid?.();
  if (self !== 0)
    r.invalid(
      'shared',
      `needs the cloud agent to run as root, to start instances as "${u.name}" (it runs as uid ${self})`,
    );
  return Object.freeze(u);
}
