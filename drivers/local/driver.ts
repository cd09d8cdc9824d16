/**
 * The local driver: each instance is a local process group running the instance agent
 * (or any `command`), fed its context through CLOUDGATE_CONTEXT_FILE. The embedded
 * default of the demo; it needs no cloud and shows a real agent applying a real context.
 */
import { chmod, chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CloudError } from '../shared/index.js';
import { checkRequest, KeyedMutex } from '../shared/index.js';
import { CONSOLE_LOG, findGuest, guestStatus, spawnGuest, stopGuest } from '../shared/index.js';
import type { Capacity, CloudDriver, CreateRequest, DriverFeature, Flavor, Image, Instance } from '../shared/index.js';
import { ConfigError } from '../../core/index.js';
import { LOCAL_FEATURES, type LocalOptions } from './options.js';
import { LocalStore, type LocalRecord } from './store.js';
import { readableBy, unsearchableBy } from './guest-user.js';

export class LocalDriver implements CloudDriver {
  readonly name = 'local';
  readonly features: ReadonlySet<DriverFeature> = new Set(LOCAL_FEATURES);
  private readonly store: LocalStore;
  private readonly createLock = new KeyedMutex();
  private readonly idLock = new KeyedMutex();

  constructor(
    private readonly o: LocalOptions,
    private readonly log: Logger,
    private readonly protectedFiles: readonly string[] = [],
  ) {
    this.store = new LocalStore(o.stateDir);
  }

  async init(): Promise<void> {
    await this.store.init();
    const u = this.o.runAs;
    if (!u) return;
    // Shared: the instances' user must reach its own directories, and nothing of ours.
    await chmod(this.o.stateDir, 0o711);
    const blocked = unsearchableBy(this.o.stateDir, u);
    if (blocked) {
      throw new ConfigError(
        `local driver: option "state_dir": ${blocked.dir} (mode ${blocked.mode}) cannot be entered by "${u.name}", who runs the instances (shared = true); allow it to search (chmod o+x) or choose another state_dir`,
      );
    }
    for (const f of this.protectedFiles) {
      if (readableBy(f, u))
        throw new ConfigError(
          `${f} is readable by "${u.name}", who runs this cloud's instances (shared = true): make it readable by the cloud agent's user only (chmod 600)`,
        );
    }
    this.log.info({ user: u.name, uid: u.uid, gid: u.gid }, 'shared: instances run as an unprivileged user');
  }

  async listFlavors(): Promise<Flavor[]> {
    return this.o.flavors.map((f) => ({ ...f }));
  }

  async listImages(): Promise<Image[]> {
    return this.o.images.map((i) => ({ ...i }));
  }

  async create(req: CreateRequest): Promise<Instance> {
    const { flavor, image } = checkRequest(req, this.o.flavors, this.o.images);
    // One lock for every create: the name lookup and the capacity check must see earlier creates.
    return this.createLock.run('create', async () => {
      const existing = await this.findByName(req.name);
      if (existing) return existing;
      await this.reserve(flavor);
      const id = LocalStore.newId();
      return this.idLock.run(id, async () => {
        const u = this.o.runAs;
        const rec: LocalRecord = {
          id,
          name: req.name,
          tags: { ...req.tags },
          flavor: flavor.id,
          image: image.id,
          cores: flavor.cores,
          memoryMb: flavor.memoryMb,
          ...(u ? { guestUid: u.uid } : {}),
          pid: null,
          pidStartTime: null,
          createdAt: new Date().toISOString(),
          terminateRequested: false,
        };
        await this.store.write(rec);
        const dir = this.store.guestDir(rec);
        if (u) {
          await chmod(this.store.dir(id), 0o711);
          await mkdir(dir, { mode: 0o700 });
          await chown(dir, u.uid, u.gid);
        }
        const contextFile = await this.store.writeUserData(rec, req.userData);
        try {
          if (u) await chown(contextFile, u.uid, u.gid);
          const h = await spawnGuest(
            dir,
            this.o.command,
            { CLOUDGATE_CONTEXT_FILE: contextFile, CLOUDGATE_INSTANCE_ID: id },
            u,
          );
          rec.pid = h.pid;
          rec.pidStartTime = h.startTime;
        } catch (err) {
          await this.store.remove(id);
          throw new CloudError('unavailable', `cannot start the instance process: ${(err as Error).message}`);
        }
        await this.store.write(rec);
        this.log.info({ instanceId: id, name: req.name, pid: rec.pid }, 'instance started');
        return this.toInstance(rec);
      });
    });
  }

  async describe(ids?: string[]): Promise<Instance[]> {
    const recs = ids
      ? (await Promise.all([...new Set(ids)].map((id) => this.store.read(id)))).filter(
          (r): r is LocalRecord => r !== undefined,
        )
      : await this.prune(await this.store.list());
    const out = await Promise.all(recs.map(async (r) => this.toInstance(await this.adopt(r))));
    return out.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
  }

  async terminate(id: string): Promise<void> {
    await this.idLock.run(id, async () => {
      const rec = await this.store.read(id);
      if (!rec || rec.terminatedAt) return;
      // Recorded first: if we die mid-way, the instance still reads as terminated, not as crashed.
      if (!rec.terminateRequested) {
        rec.terminateRequested = true;
        await this.store.write(rec);
      }
      const guest =
        rec.pid !== null ? { pid: rec.pid, startTime: rec.pidStartTime } : findGuest(this.store.guestDir(rec));
      if (guest) await stopGuest(guest, this.o.killGraceMs);
      rec.terminatedAt = new Date().toISOString();
      await this.store.write(rec);
      await this.store.scrub(rec);
      this.log.info({ instanceId: id }, 'instance terminated');
    });
  }

  async capacity(): Promise<Capacity> {
    let instances = 0;
    let cores = 0;
    let memoryMb = 0;
    for (const rec of await this.store.list()) {
      const inst = await this.toInstance(rec);
      if (inst.state === 'terminated' || inst.state === 'error') continue;
      instances += 1;
      cores += rec.cores;
      memoryMb += rec.memoryMb;
    }
    return {
      instances: Math.max(0, this.o.maxInstances - instances),
      cores: Math.max(0, this.o.cores - cores),
      memoryMb: Math.max(0, this.o.memoryMb - memoryMb),
    };
  }

  async close(): Promise<void> {
    // Nothing to release: instances are independent process groups and keep running.
  }

  private async reserve(flavor: Flavor): Promise<void> {
    const free = await this.capacity();
    if ((free.instances ?? 0) < 1) throw new CloudError('quota', `max_instances (${this.o.maxInstances}) reached`);
    if ((free.cores ?? 0) < flavor.cores || (free.memoryMb ?? 0) < flavor.memoryMb) {
      throw new CloudError(
        'capacity',
        `not enough free capacity for flavor "${flavor.id}" (free: ${free.cores} cores, ${free.memoryMb} MB)`,
      );
    }
  }

  /**
   * A record without a pid whose process runs all the same (a create cut short by a kill
   * of the cloud agent, between spawn and record): the process is recorded and adopted,
   * so create() finds the instance again instead of starting a second one beside it.
   */
  private async adopt(rec: LocalRecord): Promise<LocalRecord> {
    if (rec.pid !== null || rec.terminatedAt) return rec;
    return this.idLock.run(rec.id, async () => {
      const cur = await this.store.read(rec.id);
      if (!cur || cur.pid !== null || cur.terminatedAt) return cur ?? rec;
      const guest = findGuest(this.store.guestDir(cur));
      if (!guest) return cur;
      cur.pid = guest.pid;
      cur.pidStartTime = guest.startTime;
      await this.store.write(cur);
      this.log.warn(
        { instanceId: cur.id, name: cur.name, pid: cur.pid },
        'adopted an instance process whose start was not recorded',
      );
      return cur;
    });
  }

  private async findByName(name: string): Promise<Instance | undefined> {
    for (const stored of await this.store.list()) {
      if (stored.name !== name) continue;
      const rec = await this.adopt(stored);
      const inst = await this.toInstance(rec);
      if (inst.state !== 'terminated') return inst;
    }
    return undefined;
  }

  /** Terminated instances stay visible for a while (like EC2's), then their directory goes. */
  private async prune(recs: LocalRecord[]): Promise<LocalRecord[]> {
    const cutoff = Date.now() - this.o.retainTerminatedMs;
    const keep: LocalRecord[] = [];
    for (const r of recs) {
      if (r.terminatedAt && Date.parse(r.terminatedAt) < cutoff) await this.store.remove(r.id);
      else keep.push(r);
    }
    return keep;
  }

  private async toInstance(rec: LocalRecord): Promise<Instance> {
    const dir = this.store.guestDir(rec);
    const extra: Record<string, unknown> = { pid: rec.pid, dir, consoleLog: join(dir, CONSOLE_LOG) };
    if (rec.guestUid !== undefined) extra.uid = rec.guestUid;
    const base = {
      id: rec.id,
      name: rec.name,
      flavorId: rec.flavor,
      imageId: rec.image,
      tags: { ...rec.tags },
      addresses: ['127.0.0.1'],
      createdAt: rec.createdAt,
      extra,
    };
    if (rec.terminatedAt) return { ...base, state: 'terminated', providerState: 'terminated' };
    if (rec.pid === null)
      return { ...base, state: rec.terminateRequested ? 'terminated' : 'error', providerState: 'not-started' };
    const st = await guestStatus(dir, { pid: rec.pid, startTime: rec.pidStartTime });
    if (st.alive)
      return {
        ...base,
        state: rec.terminateRequested ? 'stopping' : 'running',
        providerState: rec.terminateRequested ? 'terminating' : 'running',
      };
    if (st.exitCode !== undefined) extra.exitCode = st.exitCode;
    if (st.signal !== undefined) extra.signal = st.signal;
    if (rec.terminateRequested) return { ...base, state: 'terminated', providerState: 'terminated' };
    if (st.exitCode === 0) return { ...base, state: 'terminated', providerState: 'exited' };
    return {
      ...base,
      state: 'error',
      providerState: st.exitCode === undefined ? 'vanished' : st.signal ? 'killed' : 'exited',
    };
  }
}
