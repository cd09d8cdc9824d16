/**
 * The ec2 driver: AWS and EC2-compatible clouds through @aws-sdk/client-ec2. Instances
 * carry a cloudgate:managed tag, so describe() sees only ours and a restarted agent
 * finds them again; the context travels as EC2 user-data.
 */
import {
  type EC2Client,
  paginateDescribeInstances,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type _InstanceType,
  type Filter,
  type Instance as Ec2Instance,
} from '@aws-sdk/client-ec2';
import type { Logger } from 'pino';
import { CloudError } from '../shared/index.js';
import { checkRequest, KeyedMutex } from '../shared/index.js';
import type { CloudDriver, CreateRequest, DriverFeature, Flavor, Image, Instance } from '../shared/index.js';
import { mapEc2Error } from './errors.js';
import { isManaged, MANAGED_TAG, tagSpecifications, toInstance } from './mapping.js';
import { EC2_FEATURES, type Ec2Options } from './options.js';

const ID_RE = /^i-[0-9a-f]{8,32}$/;
/** EC2 refuses user-data over 16 KB (before base64). */
const MAX_USER_DATA = 16 * 1024;
/** EC2 accepts at most 200 values per filter. */
const FILTER_CHUNK = 200;
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];
/**
 * The user-data (a login token among it) is served by the metadata service. IMDSv2 only:
 * a plain GET (IMDSv1) is refused, so a server-side request forgery in a guest's web
 * service cannot read it, and a hop limit of 1 keeps the session token from reaching
 * containers or anything routed through the instance.
 */
const METADATA_OPTIONS = { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' } as const;

export class Ec2Driver implements CloudDriver {
  readonly name = 'ec2';
  readonly features: ReadonlySet<DriverFeature>;
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly o: Ec2Options,
    private readonly client: EC2Client,
    private readonly log: Logger,
  ) {
    this.features = new Set(EC2_FEATURES.filter((f) => f !== 'runs-agent' || o.runsAgent));
  }

  async listFlavors(): Promise<Flavor[]> {
    return this.o.flavors.map(({ id, name, cores, memoryMb, instanceType }) => ({
      id,
      name,
      cores,
      memoryMb,
      extra: { instanceType },
    }));
  }

  async listImages(): Promise<Image[]> {
    return this.o.images.map(({ id, name, ami }) => ({ id, name, extra: { ami } }));
  }

  async create(req: CreateRequest): Promise<Instance> {
    const { flavor, image } = checkRequest(req, this.o.flavors, this.o.images);
    if (Buffer.byteLength(req.userData) > MAX_USER_DATA)
      throw new CloudError('invalid', `user-data is larger than EC2's ${MAX_USER_DATA} bytes`);
    const instanceType = this.o.flavors.find((f) => f.id === flavor.id)!.instanceType;
    const ami = this.o.images.find((i) => i.id === image.id)!.ami;
    return this.locks.run(req.name, async () => {
      // ClientToken covers a retried request; the tag lookup covers a re-sent create on clouds
      // (moto among them) that do not honour ClientToken.
      const [existing] = await this.query('describe-instances', [
        { Name: 'tag:Name', Values: [req.name] },
        { Name: `tag:${MANAGED_TAG}`, Values: ['true'] },
        { Name: 'instance-state-name', Values: LIVE_STATES },
      ]);
      if (existing) return toInstance(existing, this.o);
      const out = await this.send('run-instances', () =>
        this.client.send(
          new RunInstancesCommand({
            ImageId: ami, // Configured types are passed through: the SDK's enum lags behind new instance types.
            InstanceType: instanceType as _InstanceType,
            MinCount: 1,
            MaxCount: 1,
            ClientToken: req.name,
            UserData: Buffer.from(req.userData, 'utf8').toString('base64'),
            TagSpecifications: tagSpecifications(req),
            SubnetId: this.o.subnetId,
            SecurityGroupIds: this.o.securityGroupIds.length ? [...this.o.securityGroupIds] : undefined,
            KeyName: this.o.keyName,
            MetadataOptions: METADATA_OPTIONS,
          }),
        ),
      );
      const inst = out.Instances?.[0];
      if (!inst?.InstanceId) throw new CloudError('unavailable', 'ec2 run-instances answered without an instance');
      // The same ClientToken after termination yields the dead instance again, not a new one.
      if (inst.State?.Name === 'terminated' || inst.State?.Name === 'shutting-down') {
        throw new CloudError(
          'invalid',
          `name "${req.name}" belonged to instance ${inst.InstanceId}, now terminated; EC2 keeps its client token, so choose a new name`,
        );
      }
      if (!inst.Tags?.length) inst.Tags = tagSpecifications(req)[0]!.Tags;
      this.log.info({ instanceId: inst.InstanceId, name: req.name, instanceType }, 'instance launched');
      return toInstance(inst, this.o);
    });
  }

  async describe(ids?: string[]): Promise<Instance[]> {
    const managed: Filter = { Name: `tag:${MANAGED_TAG}`, Values: ['true'] };
    if (!ids) return (await this.query('describe-instances', [managed])).map((i) => toInstance(i, this.o));
    // A filter, unlike InstanceIds, does not fail the whole call for one unknown id.
    const wanted = [...new Set(ids)].filter((id) => ID_RE.test(id));
    const out: Instance[] = [];
    for (let k = 0; k < wanted.length; k += FILTER_CHUNK) {
      const found = await this.query('describe-instances', [
        managed,
        { Name: 'instance-id', Values: wanted.slice(k, k + FILTER_CHUNK) },
      ]);
      out.push(...found.map((i) => toInstance(i, this.o)));
    }
    return out;
  }

  async terminate(id: string): Promise<void> {
    if (!ID_RE.test(id)) return;
    const [found] = await this.query('describe-instances', [{ Name: 'instance-id', Values: [id] }]);
    if (found && !isManaged(found))
      throw new CloudError('invalid', `instance ${id} is not managed by cloudgate; refusing to terminate it`);
    if (found?.State?.Name === 'terminated') return;
    // Not found may also mean "too new to be listed yet" (eventual consistency): terminate anyway.
    try {
      await this.send('terminate-instances', () =>
        this.client.send(new TerminateInstancesCommand({ InstanceIds: [id] })),
      );
      this.log.info({ instanceId: id }, 'instance terminating');
    } catch (err) {
      if (!(err instanceof CloudError && err.kind === 'not-found')) throw err;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async query(op: string, filters: Filter[]): Promise<Ec2Instance[]> {
    return this.send(op, async () => {
      const out: Ec2Instance[] = [];
      for await (const page of paginateDescribeInstances(
        { client: this.client, pageSize: this.o.pageSize },
        { Filters: filters },
      )) {
        for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []));
      }
      return out;
    });
  }

  /** Every SDK call goes through here; only our own code-based message reaches the log. */
  private async send<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const mapped = mapEc2Error(err, op);
      // not-found is routine (terminate of a gone instance); the rest is worth an operator's eye.
      this.log[mapped.kind === 'not-found' ? 'debug' : 'warn'](
        { op, kind: mapped.kind, error: mapped.message },
        'ec2 call failed',
      );
      throw mapped;
    }
  }
}
