/**
 * Facts about the installed ejabberd/Erlang: where the binaries and libraries are and
 * which user owns the package. Read once from the system, never written.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { EjabberdError } from './errors.js';

export interface ErlangSystem {
  erl: string;
  erlLibs: string;
  /** uid/gid to run as when started by root (Debian's package user), else undefined. */
  runAs?: { uid: number; gid: number; name: string };
}

let cached: ErlangSystem | undefined;

export function erlangSystem(): ErlangSystem {
  if (cached) return cached;
  const erl = '/usr/bin/erl';
  if (!existsSync(erl)) {
    throw new EjabberdError(
      'Erlang is not installed (no /usr/bin/erl): install the Debian package "ejabberd" (apt-get install ejabberd)',
    );
  }
  const erlLibs = findErlLibs();
  let runAs: ErlangSystem['runAs'];
  if (process.getuid?.() === 0) {
    try {
      const uid = Number(execFileSync('id', ['-u', 'ejabberd'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'ejabberd'], { encoding: 'utf8' }).trim());
      runAs = { uid, gid, name: 'ejabberd' };
    } catch {
      runAs = undefined; // no package user: run as root, as ejabberdctl would warn
    }
  }
  cached = { erl, erlLibs, runAs };
  return cached;
}

/** Debian's ejabberdctl sets ERL_LIBS to the multiarch lib dir holding ejabberd-<vsn>. */
function findErlLibs(): string {
  try {
    const m = /^ERL_LIBS='?([^'\n]+)'?/m.exec(readFileSync('/usr/sbin/ejabberdctl', 'utf8'));
    if (m && existsSync(m[1])) return m[1];
  } catch {
    /* fall through to the search */
  }
  for (const base of [
    '/usr/lib',
    ...readdirSync('/usr/lib')
      .filter((d) => d.endsWith('-linux-gnu'))
      .map((d) => `/usr/lib/${d}`),
  ]) {
    try {
      if (readdirSync(base).some((d) => /^ejabberd-\d/.test(d))) return base;
    } catch {
      /* not a dir */
    }
  }
  throw new EjabberdError(
    'ejabberd is not installed (no ejabberd-<version> library dir): install the Debian package "ejabberd" (apt-get install ejabberd)',
  );
}
