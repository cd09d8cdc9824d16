/**
 * /etc/passwd, /etc/group, /etc/shadow (and /etc/gshadow when present) as editable tables,
 * so users/groups can run on a temp root and on images without useradd (busybox, minimal
 * containers). Lines we do not understand (NIS '+' entries, comments) are kept verbatim.
 * Format: passwd(5), group(5), shadow(5), gshadow(5).
 */
import { underRoot, readIfExists, writeAtomic } from '../fsutil.js';

type Row = { fields: string[] } | { raw: string };

export class Table {
  private readonly rows: Row[];
  private readonly before: string;

  /** `path` is the real file under root; `target` its name on the target system (for reports). */
  constructor(
    readonly path: string,
    readonly target: string,
    text: string | undefined,
    readonly newMode: number,
  ) {
    this.before = text ?? '';
    const lines = this.before.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    this.rows = lines.map((l) =>
      l === '' || /^[#+-]/.test(l) || !l.includes(':') ? { raw: l } : { fields: l.split(':') },
    );
  }

  get(name: string): string[] | undefined {
    for (const r of this.rows) if ('fields' in r && r.fields[0] === name) return r.fields;
    return undefined;
  }

  /** Every parsed row, for id allocation and lookups by number. */
  entries(): string[][] {
    return this.rows.flatMap((r) => ('fields' in r ? [r.fields] : []));
  }

  add(fields: string[]): string[] {
    this.rows.push({ fields });
    return fields;
  }

  text(): string {
    return (
      this.rows.map((r) => ('fields' in r ? r.fields.join(':') : r.raw)).join('\n') + (this.rows.length ? '\n' : '')
    );
  }

  changed(): boolean {
    return this.text() !== this.before;
  }
}

export interface Accounts {
  passwd: Table;
  group: Table;
  shadow: Table;
  gshadow?: Table;
}

export async function readAccounts(root: string): Promise<Accounts> {
  const load = async (name: string, mode: number): Promise<Table> => {
    const path = underRoot(root, `/etc/${name}`);
    return new Table(path, `/etc/${name}`, (await readIfExists(path))?.toString('utf8'), mode);
  };
  const gshadowPath = underRoot(root, '/etc/gshadow');
  const gshadowText = (await readIfExists(gshadowPath))?.toString('utf8');
  return {
    passwd: await load('passwd', 0o644),
    group: await load('group', 0o644),
    shadow: await load('shadow', 0o600),
    // Only maintained where the system already uses it; creating one would change semantics.
    gshadow: gshadowText === undefined ? undefined : new Table(gshadowPath, '/etc/gshadow', gshadowText, 0o600),
  };
}

/** Write the changed tables, groups first so no passwd line ever names a missing group. Returns the target paths written. */
export async function writeAccounts(a: Accounts): Promise<string[]> {
  const written: string[] = [];
  for (const t of [a.group, a.gshadow, a.passwd, a.shadow]) {
    if (!t?.changed()) continue;
    const exists = (await readIfExists(t.path)) !== undefined;
    await writeAtomic(t.path, t.text(), exists ? {} : { mode: t.newMode });
    written.push(t.target);
  }
  return written;
}

/** useradd's rule: one above the highest id in [min, max), else the lowest free one. */
export function allocateId(used: Iterable<number>, min = 1000, max = 60000): number | undefined {
  const inRange = [...used].filter((n) => n >= min && n < max);
  const top = inRange.length ? Math.max(...inRange) + 1 : min;
  if (top < max) return top;
  const set = new Set(inRange);
  for (let n = min; n < max; n++) if (!set.has(n)) return n;
  return undefined;
}

export const uidsOf = (a: Accounts): number[] => a.passwd.entries().map((f) => Number(f[2]));
export const gidsOf = (a: Accounts): number[] => a.group.entries().map((f) => Number(f[2]));

export function groupByGid(a: Accounts, gid: number): string[] | undefined {
  return a.group.entries().find((f) => Number(f[2]) === gid);
}

/** Create a group (and its gshadow line when that file is in use). */
export function addGroup(a: Accounts, name: string, gid: number): string[] {
  a.gshadow?.add([name, '!', '', '']);
  return a.group.add([name, 'x', String(gid), '']);
}

/** Add `user` to the member list of group row `fields` (and gshadow); true when it changed. */
export function addMember(a: Accounts, fields: string[], user: string): boolean {
  const members = fields[3] ? fields[3].split(',') : [];
  if (members.includes(user)) return false;
  fields[3] = [...members, user].join(',');
  const gs = a.gshadow?.get(fields[0]);
  if (gs) {
    const m = gs[3] ? gs[3].split(',') : [];
    if (!m.includes(user)) gs[3] = [...m, user].join(',');
  }
  return true;
}

/** Days since the epoch, as shadow(5) stores the last password change. */
export const today = (): string => String(Math.floor(Date.now() / 86_400_000));

/** uid/gid of a user name (or a number) as the target system sees it, via <root>/etc/passwd. */
export async function lookupOwner(
  root: string,
  user: string,
  group?: string,
): Promise<{ uid: number; gid: number } | string> {
  const a = await readAccounts(root);
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(user)) {
    uid = Number(user);
    gid = Number(a.passwd.entries().find((f) => Number(f[2]) === uid)?.[3] ?? uid);
  } else {
    const p = a.passwd.get(user);
    if (!p) return `no user "${user}" in /etc/passwd`;
    uid = Number(p[2]);
    gid = Number(p[3]);
  }
  if (group !== undefined) {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const g = a.group.get(group);
      if (!g) return `no group "${group}" in /etc/group`;
      gid = Number(g[2]);
    }
  }
  return { uid, gid };
}
