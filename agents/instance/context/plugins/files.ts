/**
 * [files] — write files under root, atomically. Key: absolute path on the target. Value:
 * an option line (the text after '='), then the content on indented continuation lines.
 *
 *   [files]
 *   /etc/motd =
 *       Welcome to the analysis cluster.
 *   /opt/app/run.sh = mode:0755 owner:alice:staff
 *       #!/bin/sh
 *       exec /opt/app/bin/app
 *   /etc/app.conf = https://config.example.org/app.conf mode:0640 owner:root:app
 *   /etc/app/empty =
 *
 *   mode:NNNN       octal (default: keep an existing file's, else 0644)
 *   owner:user[:group]  names (from <root>/etc/passwd, group) or numbers (default: keep, else the agent's)
 *   http(s)://...   fetch the content (with a timeout); exclusive with inline content
 *
 * Inline content gets a final newline. Every URL is fetched before anything is written, so
 * a failed download leaves no file of the section changed. A file already identical
 * (content, mode, owner) is left alone.
 */
import { promises as fs } from 'node:fs';
import type { Plugin, Problem, ValidateContext } from '../plugin.js';
import type { Section } from '../parse.js';
import { readIfExists, sameFile, underRoot, writeAtomic } from '../fsutil.js';
import { httpRequest } from '../http.js';
import { parseOptions, ACCOUNT_NAME } from './options.js';
import { lookupOwner } from './accounts.js';

export interface FileSpec {
  path: string;
  url?: string;
  content?: string;
  mode?: number;
  user?: string;
  group?: string;
}

export function parseFileSpec(path: string, value: string): FileSpec | string {
  if (!path.startsWith('/') || path.endsWith('/') || path.includes('\0')) return 'key must be an absolute file path';
  if (path.split('/').includes('..')) return "path may not contain '..'";
  const nl = value.indexOf('\n');
  const header = nl < 0 ? value : value.slice(0, nl);
  const o = parseOptions(header, ['mode', 'owner'], [], (w) => !w.includes(':') || /^https?:\/\//i.test(w));
  if (typeof o === 'string') return o;
  const spec: FileSpec = { path };
  for (const w of o.positional) {
    if (!/^https?:\/\//i.test(w))
      return `unexpected "${w}" after "=": put inline content on indented lines below the key`;
    if (spec.url) return 'more than one URL';
    let u: URL;
    try {
      u = new URL(w);
    } catch {
      return `malformed URL "${w}"`;
    }
    if (!u.hostname) return `URL without a host: "${w}"`;
    spec.url = u.href;
  }
  if (nl >= 0) {
    if (spec.url) return 'give either a URL or inline content, not both';
    spec.content = `${value.slice(nl + 1)}\n`;
  } else if (!spec.url) spec.content = '';
  const mode = o.values.get('mode');
  if (mode !== undefined) {
    if (!/^[0-7]{3,4}$/.test(mode)) return `mode must be octal such as 0644, got "${mode}"`;
    spec.mode = parseInt(mode, 8);
  }
  const owner = o.values.get('owner');
  if (owner !== undefined) {
    const [user, group, extra] = owner.split(':');
    const ok = (n: string | undefined) => n !== undefined && (ACCOUNT_NAME.test(n) || /^\d+$/.test(n));
    if (!ok(user) || (group !== undefined && !ok(group)) || extra !== undefined)
      return `owner must be user or user:group, got "${owner}"`;
    spec.user = user;
    spec.group = group;
  }
  return spec;
}

/**
 * Owners must exist on the target or be made by this context's users/groups plugins
 * running earlier; catching that now beats failing halfway through apply.
 */
async function validateFiles(section: Section, v: ValidateContext): Promise<Problem[]> {
  const problems: Problem[] = [];
  const order = v.context.plugins;
  const before = (p: string) => order.includes(p) && order.indexOf(p) < order.indexOf('files');
  const etc = async (f: string) =>
    ((await readIfExists(underRoot(v.root, `/etc/${f}`)))?.toString('utf8') ?? '')
      .split('\n')
      .map((l) => l.split(':')[0])
      .filter(Boolean);
  const users = new Set(await etc('passwd'));
  const groups = new Set(await etc('group'));
  const ctxUsers = [...(v.context.sections.get('users')?.keys() ?? [])];
  const ctxGroups = [...(v.context.sections.get('groups')?.keys() ?? [])];
  for (const [path, value] of section) {
    const spec = parseFileSpec(path, value);
    if (typeof spec === 'string') {
      problems.push({ key: path, message: spec });
      continue;
    }
    const problem = (name: string | undefined, what: string, known: Set<string>, makers: [string, string[]][]) => {
      if (name === undefined || /^\d+$/.test(name) || known.has(name)) return undefined;
      const maker = makers.find(([, names]) => names.includes(name));
      if (!maker) return `unknown ${what} "${name}"`;
      if (!before(maker[0]))
        return `${what} "${name}" is made by ${maker[0]}, which must come before files in plugins=`;
      return undefined;
    };
    // A user's private group is made by `users` too.
    const bad =
      problem(spec.user, 'user', users, [['users', ctxUsers]]) ??
      problem(spec.group, 'group', groups, [
        ['groups', ctxGroups],
        ['users', ctxUsers],
      ]);
    if (bad) problems.push({ key: path, message: bad });
  }
  return problems;
}

export const filesPlugin: Plugin = {
  name: 'files',
  validate: (section, v) => validateFiles(section, v),
  async apply(section, ctx) {
    const specs = [...section].map(([p, v]) => parseFileSpec(p, v) as FileSpec);
    const data = new Map<string, Buffer>();
    for (const s of specs) {
      if (s.url === undefined) {
        data.set(s.path, Buffer.from(s.content ?? ''));
        continue;
      }
      try {
        const res = await httpRequest(s.url, { timeoutMs: ctx.fetchTimeoutMs });
        if (res.status < 200 || res.status > 299)
          return { status: 'failed', message: `${s.path}: ${s.url} answered HTTP ${res.status}; no file written` };
        data.set(s.path, res.body);
      } catch (err) {
        return { status: 'failed', message: `${s.path}: ${(err as Error).message}; no file written` };
      }
    }
    const written: string[] = [];
    for (const s of specs) {
      const target = ctx.path(s.path);
      const st = await fs.lstat(target).catch(() => undefined);
      if (st && !st.isFile())
        return {
          status: 'failed',
          message: `${s.path} exists and is not a regular file`,
          changed: written.length > 0,
          detail: { written },
        };
      let owner: { uid?: number; gid?: number } = {};
      if (s.user !== undefined) {
        const o = await lookupOwner(ctx.root, s.user, s.group);
        if (typeof o === 'string')
          return { status: 'failed', message: `${s.path}: ${o}`, changed: written.length > 0, detail: { written } };
        owner = o;
      }
      const opts = { mode: s.mode ?? (st ? undefined : 0o644), ...owner };
      const bytes = data.get(s.path)!;
      if (await sameFile(target, bytes, opts)) continue;
      await writeAtomic(target, bytes, opts);
      written.push(s.path);
    }
    const kept = specs.length - written.length;
    return {
      changed: written.length > 0,
      message: written.length
        ? `wrote ${written.join(', ')}${kept ? `; ${kept} already up to date` : ''}`
        : `${kept} file(s) already up to date`,
      detail: { written },
    };
  },
};
