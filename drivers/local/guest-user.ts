/**
 * The unprivileged OS user a shared local driver runs its instances as. A context's
 * `[scripts]` run as whoever runs the instance agent: as the cloud agent's own user they
 * could read its configuration and keys, so a local cloud open to other people starts its
 * instances as a dedicated user instead (uid/gid at spawn), and refuses to start while a
 * file of the cloud agent is readable by that user.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface GuestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** `name` or `uid[:gid]`, looked up in /etc/passwd (Node has no getpwnam). */
export function lookupUser(spec: string, passwd = '/etc/passwd'): GuestUser | string {
  let lines: string[];
  try {
    lines = readFileSync(passwd, 'utf8').split('\n');
  } catch (err) {
    return `cannot read ${passwd} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  const entries = lines
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4)
    .map(([name, , uid, gid]) => ({ name: name!, uid: Number(uid), gid: Number(gid) }));
  const numeric = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (numeric) {
    const uid = Number(numeric[1]);
    const known = entries.find((e) => e.uid === uid);
    return { name: known?.name ?? spec, uid, gid: numeric[2] !== undefined ? Number(numeric[2]) : (known?.gid ?? uid) };
  }
  return entries.find((e) => e.name === spec) ?? `names no user in ${passwd}: "${spec}"`;
}

/** Whether `u` may read `file` by its permission bits (root's bypass aside). */
export function readableBy(file: string, u: GuestUser): boolean {
  let st;
  try {
    st = statSync(file);
  } catch {
    return false;
  }
  if (st.uid === u.uid) return (st.mode & 0o400) !== 0;
  if (st.gid === u.gid) return (st.mode & 0o040) !== 0;
  return (st.mode & 0o004) !== 0;
}

/** The first directory from `dir` up to / that `u` cannot enter, if any. */
export function unsearchableBy(dir: string, u: GuestUser): { dir: string; mode: string } | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    let st;
    try {
      st = statSync(d);
    } catch {
      st = undefined;
    }
    if (st) {
      const bit = st.uid === u.uid ? 0o100 : st.gid === u.gid ? 0o010 : 0o001;
      if ((st.mode & bit) === 0) return { dir: d, mode: (st.mode & 0o777).toString(8).padStart(4, '0') };
    }
    if (d === dirname(d)) return undefined;
  }
}
