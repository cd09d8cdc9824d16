/**
 * On-disk state of the local driver: `<state_dir>/<id>/` holds `instance.json` (the record
 * below), `user-data` (the context, 0600), `console.log` and `root/`. The directory is
 * the only state, so a new driver object on the same state_dir sees every instance. A
 * shared driver's instance gets `<id>/guest/` (its own, for user-data, console.log and
 * root/) while `<id>/` stays the agent's, so an instance cannot rewrite its record.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LocalRecord {
  id: string;
  name: string;
  tags: Record<string, string>;
  flavor: string;
  image: string;
  /** Copied from the flavor so capacity stays right if the flavor list changes. */
  cores: number;
  memoryMb: number;
  /** Set when created by a shared driver: the process runs as this uid in `<id>/guest`. */
  guestUid?: number;
  /** null until the process is spawned (a crash in between leaves a record with no process). */
  pid: number | null;
  pidStartTime: string | null;
  createdAt: string;
  terminateRequested: boolean;
  terminatedAt?: string;
}

const ID_RE = /^local-[0-9a-f]{12}$/;

export class LocalStore {
  constructor(readonly root: string) {}

  /** Ids are checked before they become paths, so an id like "../x" can never reach the filesystem. */
  static isId(id: string): boolean {
    return ID_RE.test(id);
  }

  static newId(): string {
    return `local-${randomBytes(6).toString('hex')}`;
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
  }

  async read(id: string): Promise<LocalRecord | undefined> {
    if (!LocalStore.isId(id)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir(id), 'instance.json'), 'utf8')) as LocalRecord;
    } catch {
      return undefined; // unknown id, or a directory whose record was never completed
    }
  }

  /** Write-then-rename, so a reader (or a crash) never sees half a record. */
  async write(rec: LocalRecord): Promise<void> {
    const dir = this.dir(rec.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, 'instance.json.tmp');
    await writeFile(tmp, JSON.stringify(rec, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, join(dir, 'instance.json'));
  }

  async list(): Promise<LocalRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return [];
    }
    const recs = await Promise.all(names.filter((n) => LocalStore.isId(n)).map((n) => this.read(n)));
    return recs.filter((r): r is LocalRecord => r !== undefined);
  }

  /** Where the instance process runs: the instance's directory, or `guest/` in it for a shared driver. */
  guestDir(rec: Pick<LocalRecord, 'id' | 'guestUid'>): string {
    return rec.guestUid === undefined ? this.dir(rec.id) : join(this.dir(rec.id), 'guest');
  }

  async writeUserData(rec: LocalRecord, text: string): Promise<string> {
    const file = join(this.guestDir(rec), 'user-data');
    await writeFile(file, text, { mode: 0o600 });
    return file;
  }

  /** After termination the context (it may hold tokens) and what was applied from it go. */
  async scrub(rec: LocalRecord): Promise<void> {
    await rm(join(this.guestDir(rec), 'user-data'), { force: true });
    await rm(join(this.guestDir(rec), 'root'), { recursive: true, force: true });
  }

  async remove(id: string): Promise<void> {
    if (LocalStore.isId(id)) await rm(this.dir(id), { recursive: true, force: true });
  }
}
