/**
 * Nova server ↔ cloudgate Instance. The labels travel as server metadata: a managed
 * marker that list() filters on, the generic flavor and image the server was made from,
 * and one `cloudgate:<key>` entry per tag.
 */
import type { CreateRequest, Instance, InstanceState } from '../shared/index.js';
import { faultKind } from './errors.js';

export const MANAGED_KEY = 'cloudgate.managed';
export const FLAVOR_KEY = 'cloudgate.flavor';
export const IMAGE_KEY = 'cloudgate.image';
export const TAG_PREFIX = 'cloudgate:';

/** https://docs.openstack.org/api-guide/compute/server_concepts.html#server-status */
const STATES: Record<string, InstanceState> = {
  BUILD: 'pending',
  REBUILD: 'pending',
  REBOOT: 'pending',
  HARD_REBOOT: 'pending',
  MIGRATING: 'pending',
  RESIZE: 'pending',
  VERIFY_RESIZE: 'pending',
  REVERT_RESIZE: 'pending',
  PASSWORD: 'running',
  ACTIVE: 'running',
  // Resumable but not serving; providerState keeps Nova's word.
  SHUTOFF: 'stopping',
  PAUSED: 'stopping',
  SUSPENDED: 'stopping',
  RESCUE: 'stopping',
  SHELVED: 'stopping',
  SHELVED_OFFLOADED: 'stopping',
  DELETED: 'terminated',
  SOFT_DELETED: 'terminated',
  ERROR: 'error',
  UNKNOWN: 'unknown',
};

export interface NovaServer {
  id: string;
  name: string;
  status: string;
  metadata?: Record<string, string>;
  created?: string;
  addresses?: Record<string, Array<{ addr: string }>>;
  fault?: { message?: string; code?: number };
  key_name?: string | null;
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-STS:vm_state'?: string;
  'OS-EXT-AZ:availability_zone'?: string;
  flavor?: { id?: string; original_name?: string };
  image?: { id?: string } | string;
}

export function normalizeNovaState(status: string | undefined, taskState?: string | null): InstanceState {
  if (taskState === 'deleting') return 'stopping';
  return (status && STATES[status]) || 'unknown';
}

export function serverMetadata(req: CreateRequest, flavorId: string, imageId: string): Record<string, string> {
  const md: Record<string, string> = { [MANAGED_KEY]: 'true', [FLAVOR_KEY]: flavorId, [IMAGE_KEY]: imageId };
  for (const [k, v] of Object.entries(req.tags)) md[`${TAG_PREFIX}${k}`] = v;
  return md;
}

export function isManaged(s: NovaServer): boolean {
  return s.metadata?.[MANAGED_KEY] === 'true';
}

export function toInstance(s: NovaServer): Instance {
  const md = s.metadata ?? {};
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(md)) if (k.startsWith(TAG_PREFIX)) tags[k.slice(TAG_PREFIX.length)] = v;
  const extra: Record<string, unknown> = {
    serverId: s.id,
    taskState: s['OS-EXT-STS:task_state'] ?? undefined,
    availabilityZone: s['OS-EXT-AZ:availability_zone'] || undefined,
    keyName: s.key_name ?? undefined,
    cloudFlavor: s.flavor?.original_name ?? s.flavor?.id,
    cloudImage: typeof s.image === 'object' ? s.image?.id : undefined,
  };
  if (s.status === 'ERROR' && s.fault?.message) {
    extra.fault = s.fault.message;
    extra.faultKind = faultKind(s.fault.message);
  }
  for (const k of Object.keys(extra)) if (extra[k] === undefined) delete extra[k];
  return {
    id: s.id,
    name: s.name,
    state: normalizeNovaState(s.status, s['OS-EXT-STS:task_state']),
    providerState: s.status,
    flavorId: md[FLAVOR_KEY],
    imageId: md[IMAGE_KEY],
    tags,
    addresses: Object.values(s.addresses ?? {}).flatMap((list) => list.map((a) => a.addr)),
    createdAt: s.created,
    extra,
  };
}
