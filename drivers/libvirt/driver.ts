/**
 * The libvirt driver: KVM/QEMU, Xen, LXC or the in-process test hypervisor behind one
 * connection. Instances are persistent domains carrying our <metadata>; the context
 * travels on a NoCloud config drive (see config-drive.ts).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ConnectListAllDomainsFlags, DomainState, Hypervisor, type Domain } from '@unraid/libvirt';
import type { Logger } from 'pino';
import { CloudError } from '../shared/index.js';
import { checkRequest, KeyedMutex } from '../shared/index.js';
import { guestStatus, loadHandle, saveHandle, spawnGuest, stopGuest } from '../shared/index.js';
import type { Capacity, CloudDriver, CreateRequest, DriverFeature, Flavor, Image, Instance } from '../shared/index.js';
import { guestDir, removeConfigDrive, writeConfigDrive } from './config-drive.js';
import { buildDomainXml, parseDomainXml, type ParsedDomain } from './domain-xml.js';
import { isConnectionLost, isNotFound, mapLibvirtError } from './errors.js';
import { LIBVIRT_FEATURES, type LibvirtOptions } from './options.js';
import { normalizeDomainState } from './states.js';

export class LibvirtDriver implements CloudDriver {
  readonly name = 'libvirt';
  readonly features: ReadonlySet<DriverFeature>;
  private hv: Hypervisor | undefined;
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly o: LibvirtOptions,
    private readonly log: Logger,
  ) {
    this.features = new Set(LIBVIRT_FEATURES.filter((f) => f !== 'runs-agent' || o.runsAgent));
  }

  /** Opens the connection now, so a wrong URI or missing permission fails at start-up. */
  async init(): Promise<void> {
    await this.conn();
  }

  private async conn(): Promise<Hypervisor> {
    if (this.hv) return this.hv;
    const hv = new Hypervisor({ uri: this.o.uri });
    try {
      await hv.connectOpen();
    } catch (err) {
      throw mapLibvirtError(err, 'connect');
    }
    this.hv = hv;
    return hv;
  }

  /** Every libvirt call goes through here: errors become CloudErrors, a dead connection is dropped for the next call. */
  private async call<T>(op: string, fn: (hv: Hypervisor) => Promise<T>): Promise<T> {
    const hv = await this.conn();
    try {
      return await fn(hv);
    } catch (err) {
      if (isConnectionLost(err)) {
        this.hv = undefined;
        hv.connectClose().catch(() => undefined);
      }
      throw mapLibvirtError(err, op);
    }
  }

  async listFlavors(): Promise<Flavor[]> {
    return this.o.flavors.map((f) => ({ ...f }));
  }

  async listImages(): Promise<Image[]> {
    return this.o.images.map(({ id, name, path }) => ({ id, name, extra: { path } }));
  }

  async create(req: CreateRequest): Promise<Instance> {
    const { flavor, image } = checkRequest(req, this.o.flavors, this.o.images);
    const img = this.o.images.find((i) => i.id === image.id)!;
    return this.locks.run(`name:${req.name}`, async () => {
      const existing = await this.lookup('lookup', (hv) => hv.domainLookupByName(req.name));
      if (existing) {
        if (!existing.parsed.meta)
          throw new CloudError('invalid', `a domain named "${req.name}" exists and is not managed by cloudgate`);
        return this.toInstance(existing.dom, existing.parsed);
      }
      const uuid = randomUUID();
      const drive = await writeConfigDrive(this.o.configDriveDir, req.name, uuid, req.userData, this.o.configDriveIso);
      const xml = buildDomainXml({
        type: this.o.domainType,
        name: req.name,
        uuid,
        cores: flavor.cores,
        memoryMb: flavor.memoryMb,
        image: { path: img.path, format: img.format },
        isoPath: drive.iso,
        seedDir: this.o.domainType === 'lxc' ? drive.dir : undefined,
        network: this.o.network,
        transientDisk: this.o.transientDisk,
        meta: { flavor: flavor.id, image: image.id, createdAt: new Date().toISOString(), tags: { ...req.tags } },
      });
      let dom: Domain | undefined;
      try {
        dom = await this.call('define', (hv) => hv.domainDefineXML(xml));
        await this.call('start', () => dom!.create());
        if (this.o.simulateGuest) await this.startGuest(req.name, uuid, drive.dir);
      } catch (err) {
        await this.discard(dom, req.name);
        throw err instanceof CloudError
          ? err
          : new CloudError('unavailable', `cannot start the simulated guest: ${(err as Error).message}`);
      }
      this.log.info({ instanceId: uuid, name: req.name, iso: Boolean(drive.iso) }, 'domain started');
      return this.toInstance(dom, parseDomainXml(xml));
    });
  }

  async describe(ids?: string[]): Promise<Instance[]> {
    let found: Array<{ dom: Domain; parsed: ParsedDomain }>;
    if (ids) {
      const hits = await Promise.all(
        [...new Set(ids)].map((id) => this.lookup('lookup', (hv) => hv.domainLookupByUUIDString(id))),
      );
      found = hits.filter((h): h is { dom: Domain; parsed: ParsedDomain } => h !== undefined);
    } else {
      const doms = await this.call('list', (hv) => hv.connectListAllDomains());
      const all = await Promise.all(doms.map((dom) => this.read(dom)));
      found = all.filter((h): h is { dom: Domain; parsed: ParsedDomain } => h !== undefined);
    }
    // Only our domains: a host (and test:///default) has others, such as the built-in "test".
    const ours = found.filter((f) => f.parsed.meta);
    const out = await Promise.all(
      ours.map((f) =>
        this.toInstance(f.dom, f.parsed).catch((err) => {
          if (isNotFound(err)) return undefined; // vanished while we looked
          throw err;
        }),
      ),
    );
    return out.filter((i): i is Instance => i !== undefined);
  }

  async terminate(id: string): Promise<void> {
    await this.locks.run(`id:${id}`, async () => {
      const hit = await this.lookup('lookup', (hv) => hv.domainLookupByUUIDString(id));
      if (!hit) return;
      if (!hit.parsed.meta)
        throw new CloudError('invalid', `domain ${id} is not managed by cloudgate; refusing to terminate it`);
      await this.discard(hit.dom, hit.parsed.name);
      this.log.info({ instanceId: id, name: hit.parsed.name }, 'domain terminated');
    });
  }

  async capacity(): Promise<Capacity> {
    const node = await this.call('node-info', (hv) => hv.nodeGetInfo());
    const active = await this.call('list', (hv) => hv.connectListAllDomains(ConnectListAllDomainsFlags.ACTIVE));
    let vcpus = 0;
    let memKiB = 0;
    for (const dom of active) {
      try {
        const info = await dom.getInfo();
        vcpus += info.nrVirtCpu;
        memKiB += info.memory;
      } catch (err) {
        if (!isNotFound(err)) throw mapLibvirtError(err, 'domain-info');
      }
    }
    // Every domain on the host counts, ours or not; libvirt reports node memory in KiB.
    return { cores: Math.max(0, node.cpus - vcpus), memoryMb: Math.max(0, Math.floor((node.memory - memKiB) / 1024)) };
  }

  async close(): Promise<void> {
    const hv = this.hv;
    this.hv = undefined;
    if (hv)
      await hv
        .connectClose()
        .catch((err) => this.log.warn({ msg: mapLibvirtError(err, 'close').message }, 'libvirt close failed'));
  }

  /** A lookup that answers undefined for an unknown (or malformed) name or uuid. */
  private async lookup(
    op: string,
    fn: (hv: Hypervisor) => Promise<Domain>,
  ): Promise<{ dom: Domain; parsed: ParsedDomain } | undefined> {
    let dom: Domain;
    try {
      dom = await this.call(op, fn);
    } catch (err) {
      if (isNotFound(err) || /invalid uuid/i.test((err as Error).message)) return undefined;
      throw err;
    }
    return this.read(dom);
  }

  private async read(dom: Domain): Promise<{ dom: Domain; parsed: ParsedDomain } | undefined> {
    try {
      return { dom, parsed: parseDomainXml(await dom.getXMLDesc()) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw mapLibvirtError(err, 'get-xml');
    }
  }

  private async startGuest(name: string, uuid: string, configDrive: string): Promise<void> {
    const dir = guestDir(this.o.configDriveDir, name);
    const h = await spawnGuest(dir, this.o.command, {
      CLOUDGATE_CONFIG_DRIVE: configDrive,
      CLOUDGATE_INSTANCE_ID: uuid,
    });
    await saveHandle(dir, h);
  }

  /** destroy + undefine + config drive and simulated guest gone; each step tolerates "already done". */
  private async discard(dom: Domain | undefined, name: string): Promise<void> {
    if (dom) {
      try {
        const info = await dom.getInfo();
        if (info.state !== DomainState.SHUTOFF) await dom.destroy();
      } catch (err) {
        if (!isNotFound(err) && !/not running/i.test((err as Error).message)) throw mapLibvirtError(err, 'destroy');
      }
      try {
        await dom.undefine();
      } catch (err) {
        // A transient domain disappears on destroy, so there may be nothing left to undefine.
        if (!isNotFound(err)) throw mapLibvirtError(err, 'undefine');
      }
    }
    const gdir = guestDir(this.o.configDriveDir, name);
    const h = await loadHandle(gdir);
    if (h) await stopGuest(h, this.o.killGraceMs);
    await removeConfigDrive(this.o.configDriveDir, name);
  }

  private async toInstance(dom: Domain, parsed: ParsedDomain): Promise<Instance> {
    const info = await dom.getInfo().catch((err: unknown) => {
      throw isNotFound(err)
        ? new CloudError('not-found', `domain ${parsed.uuid} vanished`)
        : mapLibvirtError(err, 'domain-info');
    });
    let { state, providerState } = normalizeDomainState(info.state);
    const extra: Record<string, unknown> = {
      uuid: parsed.uuid,
      vcpus: info.nrVirtCpu,
      memoryMb: Math.floor(info.memory / 1024),
      configDrive: join(this.o.configDriveDir, parsed.name),
    };
    const gdir = guestDir(this.o.configDriveDir, parsed.name);
    const h = await loadHandle(gdir);
    if (h) {
      const g = await guestStatus(gdir, h);
      extra.guest = { pid: h.pid, dir: gdir, ...g };
      // With simulate_guest the process *is* the guest: its abnormal death is the VM's crash.
      if (!g.alive && g.exitCode !== 0 && state === 'running') state = 'error';
    }
    const meta = parsed.meta!;
    return {
      id: parsed.uuid,
      name: parsed.name,
      state,
      providerState,
      flavorId: meta.flavor,
      imageId: meta.image,
      tags: { ...meta.tags },
      addresses: [],
      createdAt: meta.createdAt || undefined,
      extra,
    };
  }
}
