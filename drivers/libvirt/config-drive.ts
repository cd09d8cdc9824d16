/**
 * The context reaches a libvirt guest the way cloud-init's NoCloud datasource reads it
 * (https://cloudinit.readthedocs.io/en/latest/reference/datasources/nocloud.html): files
 * `user-data` and `meta-data` on a filesystem labelled `cidata`. We keep them in
 * `<config_drive_dir>/<name>/` (the directory a simulated guest or an lxc container reads)
 * and, when genisoimage or xorriso is installed, also as `<config_drive_dir>/<name>.iso`
 * for a VM's cdrom.
 */
import { execFile } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudError } from '../shared/index.js';
import { findExecutable } from '../shared/index.js';

const run = promisify(execFile);

export interface ConfigDrive {
  dir: string;
  iso?: string;
}

export function driveDir(base: string, name: string): string {
  return join(base, name);
}

export function guestDir(base: string, name: string): string {
  return join(base, `${name}.guest`);
}

function isoPath(base: string, name: string): string {
  return join(base, `${name}.iso`);
}

/** The ISO builder on PATH, if any; genisoimage and mkisofs take the same arguments. */
export function isoTool(): { program: string; prefix: string[] } | undefined {
  for (const program of ['genisoimage', 'mkisofs']) {
    const p = findExecutable(program);
    if (p) return { program: p, prefix: [] };
  }
  const x = findExecutable('xorriso');
  return x ? { program: x, prefix: ['-as', 'mkisofs'] } : undefined;
}

export async function writeConfigDrive(
  base: string,
  name: string,
  instanceId: string,
  userData: string,
  withIso = true,
): Promise<ConfigDrive> {
  const dir = driveDir(base, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const userFile = join(dir, 'user-data');
  const metaFile = join(dir, 'meta-data');
  // 0600: the context may hold tokens. libvirt's dynamic_ownership hands the ISO to the qemu user.
  await writeFile(userFile, userData, { mode: 0o600 });
  await writeFile(metaFile, `instance-id: ${instanceId}\nlocal-hostname: ${name}\n`, { mode: 0o600 });
  const tool = withIso ? isoTool() : undefined;
  if (!tool) return { dir };
  const iso = isoPath(base, name);
  const tmp = `${iso}.tmp`;
  try {
    await run(
      tool.program,
      [...tool.prefix, '-quiet', '-output', tmp, '-volid', 'cidata', '-joliet', '-rock', userFile, metaFile],
      { timeout: 30_000 },
    );
    await rename(tmp, iso);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new CloudError(
      'unavailable',
      `cannot build the config drive ISO with ${tool.program}: ${(err as Error).message}`,
    );
  }
  return { dir, iso };
}

export async function removeConfigDrive(base: string, name: string): Promise<void> {
  await rm(driveDir(base, name), { recursive: true, force: true });
  await rm(isoPath(base, name), { force: true });
  await rm(guestDir(base, name), { recursive: true, force: true });
}
