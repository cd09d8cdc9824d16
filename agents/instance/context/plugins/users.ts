/**
 * [users] — create or adjust local accounts by editing <root>/etc/{passwd,group,shadow}.
 * One key per account; the value is options (see options.ts):
 *
 *   [users]
 *   alice = uid:1001 groups:wheel,docker shell:/bin/bash comment:"Alice Smith" password:$6$salt$hash
 *   bob = locked
 *   carol =
 *
 *   uid:N        fixed uid (default: next free from 1000). An existing user is never renumbered.
 *   gid:N|name   primary group (default: a group named after the user, gid = uid when free)
 *   groups:a,b   supplementary groups; missing ones are created (gid from 1000)
 *   home:/path   default /home/<name>; created 0700 and owned by the user when missing
 *   shell:/path  default /bin/bash when <root>/bin/bash exists, else /bin/sh
 *   comment:"…"  GECOS field
 *   password:H   a crypt(3) hash ($id$...); plain text is refused. New accounts without one are locked.
 *   locked       lock the password ('!' prefix), keeping the hash behind it
 *
 * For existing accounts only the options given are enforced, and group memberships are
 * only ever added: a context must not silently take rights away that an admin granted.
 */
import { promises as fs } from 'node:fs';
import type { Plugin, Problem, ValidateContext } from '../plugin.js';
import type { Section } from '../parse.js';
import { underRoot } from '../fsutil.js';
import { parseOptions, parseId, ACCOUNT_NAME } from './options.js';
import {
  readAccounts,
  writeAccounts,
  allocateId,
  uidsOf,
  gidsOf,
  groupByGid,
  addGroup,
  addMember,
  today,
  type Accounts,
} from './accounts.js';

export interface UserSpec {
  uid?: number;
  gid?: number | string;
  groups: string[];
  home?: string;
  shell?: string;
  comment?: string;
  password?: string;
  locked: boolean;
}

const CRYPT = /^\$[A-Za-z0-9]+\$[^:\s]+$/;
const LOCKED = /^[!*][^:\s]*$/;

export function parseUserSpec(value: string): UserSpec | string {
  if (value.includes('\n')) return 'options must be on one line';
  const o = parseOptions(value, ['uid', 'gid', 'groups', 'home', 'shell', 'comment', 'password'], ['locked']);
  if (typeof o === 'string') return o;
  const v = o.values;
  const spec: UserSpec = { groups: [], locked: o.flags.has('locked') };
  if (v.has('uid')) {
    const n = parseId(v.get('uid')!, 'uid');
    if (typeof n === 'string') return n;
    spec.uid = n;
  }
  const gid = v.get('gid');
  if (gid !== undefined) {
    if (/^\d+$/.test(gid)) {
      const n = parseId(gid, 'gid');
      if (typeof n === 'string') return n;
      spec.gid = n;
    } else if (ACCOUNT_NAME.test(gid)) spec.gid = gid;
    else return `gid must be a number or a group name, got "${gid}"`;
  }
  for (const g of (v.get('groups') ?? '').split(',').filter(Boolean)) {
    if (!ACCOUNT_NAME.test(g)) return `bad group name "${g}"`;
    spec.groups.push(g);
  }
  for (const k of ['home', 'shell'] as const) {
    const p = v.get(k);
    if (p === undefined) continue;
    if (!p.startsWith('/') || p.includes(':') || p.split('/').includes('..'))
      return `${k} must be an absolute path without ':' or '..', got "${p}"`;
    spec[k] = p;
  }
  const comment = v.get('comment');
  if (comment !== undefined) {
    if (comment.includes(':')) return 'comment may not contain ":"';
    spec.comment = comment;
  }
  const pw = v.get('password');
  if (pw !== undefined) {
    if (!CRYPT.test(pw) && !LOCKED.test(pw))
      return 'password must be a crypt(3) hash such as $6$salt$hash (plain text is refused)';
    spec.password = pw;
  }
  return spec;
}

function validateUsers(section: Section, v: ValidateContext): Problem[] {
  const problems: Problem[] = [];
  const uids = new Map<number, string>();
  // users creates a missing group itself with an allocated gid; if [groups] meant to fix
  // that gid but runs later, it would then refuse to renumber: catch the order now.
  const order = v.context.plugins;
  const groupsLater = order.includes('groups') && order.indexOf('groups') > order.indexOf('users');
  const fixedGids = new Set(
    [...(v.context.sections.get('groups') ?? [])].filter(([, val]) => /(^|\s)gid:/.test(val)).map(([k]) => k),
  );
  for (const [name, value] of section) {
    if (!ACCOUNT_NAME.test(name)) {
      problems.push({ key: name, message: 'bad user name' });
      continue;
    }
    const spec = parseUserSpec(value);
    if (typeof spec === 'string') {
      problems.push({ key: name, message: spec });
      continue;
    }
    const named = [...spec.groups, ...(typeof spec.gid === 'string' ? [spec.gid] : [])];
    const early = named.find((g) => groupsLater && fixedGids.has(g));
    if (early)
      problems.push({
        key: name,
        message: `group "${early}" gets its gid from [groups]: list groups before users in plugins=`,
      });
    if (spec.uid !== undefined) {
      const other = uids.get(spec.uid);
      if (other) problems.push({ key: name, message: `uid ${spec.uid} also given to "${other}"` });
      uids.set(spec.uid, name);
    }
  }
  return problems;
}

/** Make one account match its spec in memory; returns what it did, or a refusal. */
function ensureUser(a: Accounts, name: string, spec: UserSpec, defaultShell: string): { note?: string } | string {
  let pw = a.passwd.get(name);
  let uid: number;
  if (pw) {
    uid = Number(pw[2]);
    if (spec.uid !== undefined && spec.uid !== uid)
      return `user "${name}" exists with uid ${uid}; refusing to renumber it to ${spec.uid}`;
  } else if (spec.uid !== undefined) {
    const owner = a.passwd.entries().find((f) => Number(f[2]) === spec.uid);
    if (owner) return `uid ${spec.uid} for "${name}" already belongs to "${owner[0]}"`;
    uid = spec.uid;
  } else {
    const n = allocateId(uidsOf(a));
    if (n === undefined) return 'no free uid';
    uid = n;
  }

  let gid: number;
  if (typeof spec.gid === 'number') {
    gid = spec.gid;
    if (!groupByGid(a, gid)) {
      if (a.group.get(name)) return `no group has gid ${gid}, and group "${name}" exists with another gid`;
      addGroup(a, name, gid);
    }
  } else if (typeof spec.gid === 'string') {
    const g = a.group.get(spec.gid) ?? addGroup(a, spec.gid, allocateId(gidsOf(a)) ?? -1);
    gid = Number(g[2]);
  } else if (pw) {
    gid = Number(pw[3]);
  } else {
    const g = a.group.get(name) ?? addGroup(a, name, gidsOf(a).includes(uid) ? (allocateId(gidsOf(a)) ?? -1) : uid);
    gid = Number(g[2]);
  }
  if (gid < 0) return 'no free gid';

  let note: string | undefined;
  if (!pw) {
    pw = a.passwd.add([
      name,
      'x',
      String(uid),
      String(gid),
      spec.comment ?? '',
      spec.home ?? `/home/${name}`,
      spec.shell ?? defaultShell,
    ]);
    note = `created ${name} (uid ${uid})`;
  } else {
    const want = [spec.comment, spec.home, spec.shell];
    if (spec.gid !== undefined) pw[3] = String(gid);
    want.forEach((w, i) => {
      if (w !== undefined) pw![4 + i] = w;
    });
  }

  let sh = a.shadow.get(name);
  if (!sh && pw[1] === 'x') sh = a.shadow.add([name, '!', today(), '0', '99999', '7', '', '', '']);
  if (sh) {
    while (sh.length < 9) sh.push('');
    if (spec.password !== undefined) {
      const desired = spec.locked && !spec.password.startsWith('!') ? `!${spec.password}` : spec.password;
      if (sh[1] !== desired) {
        sh[1] = desired;
        sh[2] = today();
      }
    } else if (spec.locked && !sh[1].startsWith('!')) sh[1] = `!${sh[1]}`;
  }

  for (const g of spec.groups) {
    const row = a.group.get(g) ?? addGroup(a, g, allocateId(gidsOf(a)) ?? -1);
    if (Number(row[2]) < 0) return 'no free gid';
    addMember(a, row, name);
  }
  return { note };
}

/** Create a missing home directory, private and owned by its user (as useradd -m does). */
async function ensureHome(root: string, home: string, uid: number, gid: number): Promise<boolean> {
  const path = underRoot(root, home);
  if (await fs.stat(path).catch(() => undefined)) return false;
  await fs.mkdir(path, { recursive: true, mode: 0o755 });
  await fs.chmod(path, 0o700);
  await fs.chown(path, uid, gid);
  return true;
}

export const usersPlugin: Plugin = {
  name: 'users',
  validate: (section, v) => validateUsers(section, v),
  async apply(section, ctx) {
    const a = await readAccounts(ctx.root);
    let bash = false;
    try {
      bash = (await fs.stat(ctx.path('/bin/bash'))).isFile();
    } catch {
      /* absent, or a link out of root: use /bin/sh */
    }
    const notes: string[] = [];
    // Homes are made for accounts created now or given home: explicitly; never for an
    // existing system account whose home is e.g. /nonexistent on purpose.
    const wantHome: string[] = [];
    for (const [name, value] of section) {
      const spec = parseUserSpec(value) as UserSpec;
      const existed = a.passwd.get(name) !== undefined;
      const r = ensureUser(a, name, spec, bash ? '/bin/bash' : '/bin/sh');
      // Refuse before writing anything: the account files are changed all together or not at all.
      if (typeof r === 'string') return { status: 'failed', message: r };
      if (r.note) notes.push(r.note);
      if (!existed || spec.home !== undefined) wantHome.push(name);
    }
    const written = await writeAccounts(a);
    let homes = 0;
    for (const name of wantHome) {
      const pw = a.passwd.get(name)!;
      if (await ensureHome(ctx.root, pw[5], Number(pw[2]), Number(pw[3]))) homes++;
    }
    const changed = written.length > 0 || homes > 0;
    if (!changed) return { changed, message: `${section.size} account(s) already as described` };
    if (written.length > 0 && notes.length === 0) notes.push('updated account files');
    if (homes) notes.push(`${homes} home dir(s) created`);
    return { changed, message: notes.join('; '), detail: { written } };
  },
};
