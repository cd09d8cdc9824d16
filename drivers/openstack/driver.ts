/**
 * The openstack driver: Nova v2.1 (an explicit microversion), Glance v2 and the compute
 * limits, spoken with fetch through one Keystone session. Servers carry cloudgate
 * metadata, so describe() sees only ours and a restarted agent finds them again; the
 * context travels as base64 user_data (read by cloud-init or the instance agent from the
 * metadata service or a config drive).
 */
import type { Logger } from 'pino';
import { CloudError, checkRequest, KeyedMutex } from '../shared/index.js';
import type { Capacity, CloudDriver, CreateRequest, DriverFeature, Flavor, Image, Instance } from '../shared/index.js';
import type { OpenStackApi } from './api.js';
import { CloudCatalog, type GlanceImage } from './catalog.js';
import { isManaged, type NovaServer, serverMetadata, toInstance } from './mapping.js';
import { OPENSTACK_FEATURES, type OpenStackOptions } from './options.js';

/** Nova refuses user_data over 65535 bytes once base64-encoded. */
const MAX_USER_DATA_B64 = 65_535;
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** describe(ids) reads servers one by one, this many at a time. */
const READ_PARALLEL = 8;
const GONE = new Set(['DELETED', 'SOFT_DELETED']);

interface AbsoluteLimits {
  maxTotalInstances?: number;
  totalInstancesUsed?: number;
  maxTotalCores?: number;
  totalCoresUsed?: number;
  maxTotalRAMSize?: number;
  totalRAMUsed?: number;
}

export class OpenStackDriver implements CloudDriver {
  readonly name = 'openstack';
  readonly features: ReadonlySet<DriverFeature>;
  private readonly locks = new KeyedMutex();
  private readonly catalog: CloudCatalog;

  constructor(
    private readonly o: OpenStackOptions,
    private readonly api: OpenStackApi,
    private readonly log: Logger,
  ) {
    this.features = new Set(OPENSTACK_FEATURES.filter((f) => f !== 'runs-agent' || o.runsAgent));
    this.catalog = new CloudCatalog(api, o, log);
  }

  async listFlavors(): Promise<Flavor[]> {
    return (await this.catalog.flavors()).map(({ id, name, cores, memoryMb, diskGb, extra }) => ({
      id,
      name,
      cores,
      memoryMb,
      diskGb,
      extra,
    }));
  }

  async listImages(): Promise<Image[]> {
    return (await this.catalog.images()).map(({ id, name, extra }) => ({ id, name, extra }));
  }

  /** Every image of Glance the project can see, with checksums: what an image registry indexes. */
  async exListGlanceImages(): Promise<GlanceImage[]> {
    return this.catalog.glanceImages();
  }

  /** Seconds-since-epoch (ms) the current token expires at; undefined before the first call. */
  exTokenExpiresAt(): number | undefined {
    return this.api.session.expiresAt;
  }

  /** How many Keystone logins this driver made (the first and every renewal). */
  exLogins(): number {
    return this.api.session.logins;
  }

  async create(req: CreateRequest): Promise<Instance> {
    // The generic names are checked against the resolved catalog below; the shared check
    // covers name, tags and user-data.
    checkRequest(req, [{ id: req.flavorId, name: '', cores: 1, memoryMb: 1 }], [{ id: req.imageId, name: '' }]);
    const userData = Buffer.from(req.userData, 'utf8').toString('base64');
    if (userData.length > MAX_USER_DATA_B64)
      throw new CloudError('invalid', `user-data is larger than Nova's ${MAX_USER_DATA_B64} bytes once base64-encoded`);
    const flavor = await this.catalog.flavor(req.flavorId);
    const image = await this.catalog.image(req.imageId);
    return this.locks.run(req.name, async () => {
      // Nova has no client token: a retried create finds the server by name instead.
      const existing = await this.findByName(req.name);
      if (existing) return toInstance(existing);
      const server: Record<string, unknown> = {
        name: req.name,
        flavorRef: flavor.cloudFlavorId,
        imageRef: image.cloudImageId,
        user_data: userData,
        metadata: serverMetadata(req, flavor.id, image.id),
        networks: typeof this.o.networks === 'string' ? this.o.networks : this.o.networks.map((uuid) => ({ uuid })),
      };
      if (this.o.keyName) server.key_name = this.o.keyName;
      if (this.o.securityGroups.length) server.security_groups = this.o.securityGroups.map((name) => ({ name }));
      if (this.o.availabilityZone) server.availability_zone = this.o.availabilityZone;
      const out = await this.api.call<{ server: { id: string } }>('compute', 'POST', '/servers', { body: { server } });
      const id = out?.server?.id;
      if (!id) throw new CloudError('unavailable', 'openstack compute create answered without a server id');
      this.log.info({ serverId: id, name: req.name, flavor: flavor.cloudFlavorId }, 'server created');
      const made = await this.read(id);
      return made
        ? toInstance(made)
        : toInstance({ id, name: req.name, status: 'BUILD', metadata: server.metadata as Record<string, string> });
    });
  }

  async describe(ids?: string[]): Promise<Instance[]> {
    if (!ids) return (await this.listAll()).filter(isManaged).map(toInstance);
    const wanted = [...new Set(ids)].filter((id) => UUID_RE.test(id));
    const out: Instance[] = [];
    for (let k = 0; k < wanted.length; k += READ_PARALLEL) {
      const found = await Promise.all(wanted.slice(k, k + READ_PARALLEL).map((id) => this.read(id)));
      for (const s of found) if (s && isManaged(s) && !GONE.has(s.status)) out.push(toInstance(s));
    }
    return out;
  }

  async terminate(id: string): Promise<void> {
    if (!UUID_RE.test(id)) return;
    const s = await this.read(id);
    if (!s || GONE.has(s.status)) return;
    if (!isManaged(s))
      throw new CloudError('invalid', `server ${id} is not managed by cloudgate; refusing to delete it`);
    await this.api.call('compute', 'DELETE', `/servers/${id}`, { allow: [404] });
    this.log.info({ serverId: id }, 'server deleting');
  }

  async capacity(): Promise<Capacity> {
    const out = await this.api.call<{ limits: { absolute: AbsoluteLimits } }>('compute', 'GET', '/limits');
    const a = out?.limits?.absolute ?? {};
    // -1 is "unlimited": nothing to tell for that dimension.
    const free = (max?: number, used?: number) =>
      max === undefined || max < 0 ? undefined : Math.max(0, max - (used ?? 0));
    const cap: Capacity = {
      instances: free(a.maxTotalInstances, a.totalInstancesUsed),
      cores: free(a.maxTotalCores, a.totalCoresUsed),
      memoryMb: free(a.maxTotalRAMSize, a.totalRAMUsed),
    };
    for (const k of Object.keys(cap) as Array<keyof Capacity>) if (cap[k] === undefined) delete cap[k];
    return cap;
  }

  async close(): Promise<void> {
    // fetch keeps no state of ours; the token simply expires.
  }

  private async read(id: string): Promise<NovaServer | undefined> {
    const out = await this.api.call<{ server: NovaServer }>('compute', 'GET', `/servers/${id}`, { allow: [404] });
    return out?.server;
  }

  private async findByName(name: string): Promise<NovaServer | undefined> {
    // Nova's name filter is a regular expression (and a substring match): anchor and escape it.
    const re = `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
    const out = await this.api.call<{ servers: NovaServer[] }>(
      'compute',
      'GET',
      `/servers/detail?name=${encodeURIComponent(re)}`,
    );
    return (out?.servers ?? []).find((s) => s.name === name && isManaged(s) && !GONE.has(s.status));
  }

  private async listAll(): Promise<NovaServer[]> {
    const all: NovaServer[] = [];
    let marker: string | undefined;
    for (;;) {
      const q = `limit=${this.o.pageSize}${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`;
      const out = await this.api.call<{ servers: NovaServer[] }>('compute', 'GET', `/servers/detail?${q}`);
      const page = out?.servers ?? [];
      all.push(...page);
      if (page.length < this.o.pageSize) return all.filter((s) => !GONE.has(s.status));
      marker = page[page.length - 1]!.id;
    }
  }
}
