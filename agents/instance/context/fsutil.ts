/**
 * Filesystem helpers that keep every write under the configured root, so the whole
 * library can be exercised on a temp dir (even as uid 0) without touching the real system.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

/**
 * Map `p`, an absolute path as seen on the target system, under `root`. Rejects relative
 * paths and '..' segments, and — when root is not '/' — a path whose existing part
 * resolves (through symlinks) outside root, so a symlinked <root>/etc cannot redirect a
 * test run onto the real /etc.
 */
export function underRoot(root: string, p: string): string {
  if (!isAbsolute(p) || p.includes('\0')) throw new Error(`not an absolute path: ${JSON.stringify(p)}`);
  if (p.split('/').includes('..')) throw new Error(`path may not contain '..': ${p}`);
  const full = resolve(root, `.${p}`);
  if (resolve(root) === '/') return full;
  const realRoot = realpathSync(root);
  let probe = full;
  for (;;) {
    try {
      const real = realpathSync(probe);
      const rel = relative(realRoot, real);
      if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${p} resolves outside root ${root}`);
      return full;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const up = dirname(probe);
      if (up === probe) return full;
      probe = up;
    }
  }
}

export interface WriteOptions {
  mode?: number;
  uid?: number;
  gid?: number;
}

/**
 * Write via a temp file in the same directory, fsync, then rename: readers (sshd, login,
 * a shell sourcing profile.d) see the old or the new file, never half of one. Mode and
 * owner default to the existing file's, so rewriting /etc/shadow keeps it private.
 */
export async function writeAtomic(path: string, data: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const old = await fs.stat(path).catch(() => undefined);
  const mode = opts.mode ?? (old ? old.mode & 0o7777 : 0o644);
  const uid = opts.uid ?? old?.uid;
  const gid = opts.gid ?? old?.gid;
  const tmp = join(dirname(path), `.${basename(path)}.cg-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
    // chown before chmod: chown clears setuid bits.
    if (uid !== undefined && gid !== undefined) await fh.chown(uid, gid);
    await fh.chmod(mode);
  } catch (err) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** The file's bytes, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True when `path` exists with exactly this content (and mode/owner when given). */
export async function sameFile(path: string, data: string | Uint8Array, opts: WriteOptions = {}): Promise<boolean> {
  const st = await fs.stat(path).catch(() => undefined);
  if (!st?.isFile()) return false;
  if (opts.mode !== undefined && (st.mode & 0o7777) !== opts.mode) return false;
  if (opts.uid !== undefined && st.uid !== opts.uid) return false;
  if (opts.gid !== undefined && st.gid !== opts.gid) return false;
  const buf = await fs.readFile(path);
  return buf.equals(
    typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  );
}
