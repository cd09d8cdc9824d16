/** EC2 instance ↔ cloudgate Instance: state map, tags, generic flavor/image names. */
import type { Instance as Ec2Instance, Tag, TagSpecification } from '@aws-sdk/client-ec2';
import type { CreateRequest, Instance, InstanceState } from '../shared/index.js';
import type { Ec2Options } from './options.js';

export const TAG_PREFIX = 'cloudgate:';
export const MANAGED_TAG = 'cloudgate:managed';

const STATES: Record<string, InstanceState> = {
  pending: 'pending',
  running: 'running',
  'shutting-down': 'stopping',
  stopping: 'stopping',
  stopped: 'stopping', // resumable but not serving; providerState keeps 'stopped'
  terminated: 'terminated',
};

export function normalizeEc2State(word: string | undefined): InstanceState {
  return (word && STATES[word]) || 'unknown';
}

/** Name, one cloudgate:<key> per label, and the managed marker that describe() filters on. */
export function tagSpecifications(req: CreateRequest): TagSpecification[] {
  const tags: Tag[] = [
    { Key: 'Name', Value: req.name },
    { Key: MANAGED_TAG, Value: 'true' },
  ];
  for (const [k, v] of Object.entries(req.tags)) tags.push({ Key: `${TAG_PREFIX}${k}`, Value: v });
  return [{ ResourceType: 'instance', Tags: tags }];
}

export function isManaged(i: Ec2Instance): boolean {
  return (i.Tags ?? []).some((t) => t.Key === MANAGED_TAG && t.Value === 'true');
}

export function toInstance(i: Ec2Instance, o: Ec2Options): Instance {
  const tags: Record<string, string> = {};
  let name: string | undefined;
  for (const t of i.Tags ?? []) {
    if (!t.Key || t.Value === undefined) continue;
    if (t.Key === 'Name') name = t.Value;
    else if (t.Key.startsWith(TAG_PREFIX) && t.Key !== MANAGED_TAG) tags[t.Key.slice(TAG_PREFIX.length)] = t.Value;
  }
  const providerState = i.State?.Name ?? 'unknown';
  const extra: Record<string, unknown> = {
    instanceType: i.InstanceType,
    ami: i.ImageId,
    availabilityZone: i.Placement?.AvailabilityZone,
    subnetId: i.SubnetId,
    vpcId: i.VpcId,
    privateDnsName: i.PrivateDnsName || undefined,
    publicDnsName: i.PublicDnsName || undefined,
    keyName: i.KeyName,
    stateReason: i.StateReason?.Code,
  };
  for (const k of Object.keys(extra)) if (extra[k] === undefined) delete extra[k];
  return {
    id: i.InstanceId ?? '',
    name: name ?? i.InstanceId ?? '',
    state: normalizeEc2State(providerState),
    providerState,
    // Several generic names may share one instance type or AMI; the first configured wins.
    flavorId: o.flavors.find((f) => f.instanceType === i.InstanceType)?.id ?? i.InstanceType,
    imageId: o.images.find((im) => im.ami === i.ImageId)?.id ?? i.ImageId,
    tags,
    addresses: [i.PrivateIpAddress, i.PublicIpAddress].filter((a): a is string => Boolean(a)),
    createdAt: i.LaunchTime ? new Date(i.LaunchTime).toISOString() : undefined,
    extra,
  };
}
