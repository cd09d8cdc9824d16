/**
 * [groups] — create groups and add members, by editing <root>/etc/group (and gshadow).
 *
 *   [groups]
 *   wheel = gid:10 members:alice,bob
 *   analysts = members:carol
 *   daemons = system
 *
 *   gid:N        fixed gid (default: next free from 1000, or from 100 with `system`).
 *                An existing group is never renumbered.
 *   members:a,b  users added to the group (never removed)
 *   system       allocate the gid in the system range [100, 1000)
 *
 * List `groups` before `users` in plugins= when users name groups with fixed gids:
 * users creates missing groups itself, with an allocated gid.
 */
import type { Plugin, Problem } from '../plugin.js';
import type { Section } from '../parse.js';
import { parseOptions, parseId, ACCOUNT_NAME } from './options.js';
import { readAccounts, writeAccounts, allocateId, gidsOf, groupByGid, addGroup, addMember } from './accounts.js';

export interface GroupSpec {
  gid?: number;
  members: string[];
  system: boolean;
}

export function parseGroupSpec(value: string): GroupSpec | string {
  if (value.includes('\n')) return 'options must be on one line';
  const o = parseOptions(value, ['gid', 'members'], ['system']);
  if (typeof o === 'string') return o;
  const spec: GroupSpec = { members: [], system: o.flags.has('system') };
  const gid = o.values.get('gid');
  if (gid !== undefined) {
    const n = parseId(gid, 'gid');
    if (typeof n === 'string') return n;
    spec.gid = n;
  }
  for (const m of (o.values.get('members') ?? '').split(',').filter(Boolean)) {
    if (!ACCOUNT_NAME.test(m)) return `bad member name "${m}"`;
    spec.members.push(m);
  }
  return spec;
}

function validateGroups(section: Section): Problem[] {
  const problems: Problem[] = [];
  const gids = new Map<number, string>();
  for (const [name, value] of section) {
    if (!ACCOUNT_NAME.test(name)) {
      problems.push({ key: name, message: 'bad group name' });
      continue;
    }
    const spec = parseGroupSpec(value);
    if (typeof spec === 'string') {
      problems.push({ key: name, message: spec });
      continue;
    }
    if (spec.gid !== undefined) {
      const other = gids.get(spec.gid);
      if (other) problems.push({ key: name, message: `gid ${spec.gid} also given to "${other}"` });
      gids.set(spec.gid, name);
    }
  }
  return problems;
}

export const groupsPlugin: Plugin = {
  name: 'groups',
  validate: (section) => validateGroups(section),
  async apply(section, ctx) {
    const a = await readAccounts(ctx.root);
    const created: string[] = [];
    for (const [name, value] of section) {
      const spec = parseGroupSpec(value) as GroupSpec;
      let row = a.group.get(name);
      if (row) {
        if (spec.gid !== undefined && Number(row[2]) !== spec.gid) {
          return {
            status: 'failed',
            message: `group "${name}" exists with gid ${row[2]}; refusing to renumber it to ${spec.gid}`,
          };
        }
      } else {
        if (spec.gid !== undefined && groupByGid(a, spec.gid)) {
          return {
            status: 'failed',
            message: `gid ${spec.gid} for "${name}" already belongs to "${groupByGid(a, spec.gid)![0]}"`,
          };
        }
        const gid = spec.gid ?? (spec.system ? allocateId(gidsOf(a), 100, 1000) : allocateId(gidsOf(a)));
        if (gid === undefined) return { status: 'failed', message: `no free gid for "${name}"` };
        row = addGroup(a, name, gid);
        created.push(`${name} (gid ${gid})`);
      }
      for (const m of spec.members) addMember(a, row, m);
    }
    const written = await writeAccounts(a);
    if (written.length === 0) return { changed: false, message: `${section.size} group(s) already as described` };
    return {
      changed: true,
      message: created.length ? `created ${created.join(', ')}` : 'updated group members',
      detail: { written },
    };
  },
};
