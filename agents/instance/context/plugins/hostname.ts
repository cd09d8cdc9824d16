/**
 * [hostname] — name the machine.
 *
 *   [hostname]
 *   name = worker-3.cluster.example.org   RFC 1123 name, short or fully qualified (required)
 *   address = 127.0.1.1                   address for the /etc/hosts line (default 127.0.1.1,
 *                                         Debian's convention for the machine's own name)
 *
 * Writes <root>/etc/hostname and one /etc/hosts line `address fqdn short`, replacing the
 * line for that address if there is one, so applying again changes nothing. The running
 * kernel's name is set with `hostname` only when root is '/': tests on a temp root must
 * never rename the developer's machine.
 */
import { execFile } from 'node:child_process';
import { hostname as currentHostname } from 'node:os';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import type { Plugin, Problem } from '../plugin.js';
import type { Section } from '../parse.js';
import { readIfExists, writeAtomic } from '../fsutil.js';

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const KEYS = ['name', 'address'];

export function validHostname(name: string): boolean {
  return name.length <= 253 && name.split('.').every((l) => LABEL.test(l));
}

function validateHostname(section: Section): Problem[] {
  const problems: Problem[] = [];
  for (const k of section.keys())
    if (!KEYS.includes(k)) problems.push({ key: k, message: `unknown key (known: ${KEYS.join(', ')})` });
  const name = section.get('name');
  if (name === undefined) problems.push({ message: 'name is required' });
  else if (!validHostname(name)) problems.push({ key: 'name', message: `not a valid host name: "${name}"` });
  const addr = section.get('address');
  if (addr !== undefined && !isIP(addr)) problems.push({ key: 'address', message: `not an IP address: "${addr}"` });
  return problems;
}

/** /etc/hosts with our line in place of any other line for the same address. */
export function hostsWith(text: string, address: string, name: string): string {
  const short = name.split('.')[0];
  const ours = short === name ? `${address}\t${name}` : `${address}\t${name} ${short}`;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const i = lines.findIndex((l) => l.trim().split(/\s+/)[0] === address);
  if (i >= 0) lines[i] = ours;
  else lines.push(ours);
  return `${lines.join('\n')}\n`;
}

export const hostnamePlugin: Plugin = {
  name: 'hostname',
  validate: (section) => validateHostname(section),
  async apply(section, ctx) {
    const name = section.get('name')!;
    const address = section.get('address') ?? '127.0.1.1';
    const changed: string[] = [];
    const hostnameFile = ctx.path('/etc/hostname');
    if ((await readIfExists(hostnameFile))?.toString('utf8') !== `${name}\n`) {
      await writeAtomic(hostnameFile, `${name}\n`, { mode: 0o644 });
      changed.push('/etc/hostname');
    }
    const hostsFile = ctx.path('/etc/hosts');
    const oldHosts = (await readIfExists(hostsFile))?.toString('utf8');
    const newHosts = hostsWith(oldHosts ?? '127.0.0.1\tlocalhost\n', address, name);
    if (newHosts !== oldHosts) {
      await writeAtomic(hostsFile, newHosts, oldHosts === undefined ? { mode: 0o644 } : {});
      changed.push('/etc/hosts');
    }
    if (ctx.root === '/' && currentHostname() !== name) {
      await promisify(execFile)('hostname', [name], { timeout: 10_000 });
      changed.push('kernel host name');
    }
    return {
      changed: changed.length > 0,
      message: changed.length ? `set ${name} in ${changed.join(', ')}` : `already ${name}`,
    };
  },
};
