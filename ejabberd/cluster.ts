/**
 * Several project-local servers as one ejabberd cluster (Erlang distribution, shared
 * Mnesia tables), on one machine or across hosts. ejabberd's own clustering does the
 * work (`ejabberdctl join_cluster`); this file gives the nodes what it needs of them:
 *
 * - the same cookie, TLS certificate and JWT keys (a node refuses a peer with another
 *   cookie; an agent's token or CA must be good on whichever node it reaches), taken
 *   from a prepared node's directory and never passed on a command line;
 * - a way to find each other's distribution port without epmd: cg_epmd.erl, compiled
 *   into <dir>/ebin, reads the peers file (conf/peers.eterm), and a node it does not
 *   list is taken to listen on this node's own port (one node per host).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EjabberdError } from './errors.js';

const execFileP = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** An Erlang node name as ejabberd's nodes take it: short name @ host. */
const NODE_RE = /^([A-Za-z][A-Za-z0-9_-]*)@([A-Za-z0-9][A-Za-z0-9.-]*)$/;

/** A peer: its node name and distribution port. */
export interface PeerNode {
  node: string;
  distPort: number;
}

/** Parses `name@host[:port]` (an operator's --join or --peer), naming what is wrong. */
export function parsePeer(spec: string, what = 'node'): { node: string; distPort?: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(spec.trim())!;
  if (!NODE_RE.test(m[1]))
    throw new EjabberdError(`${what} '${spec}': expected an Erlang node name name@host, optionally :port`);
  const distPort = m[2] === undefined ? undefined : Number(m[2]);
  if (distPort !== undefined && (distPort < 1 || distPort > 65535))
    throw new EjabberdError(`${what} '${spec}': port ${m[2]} is not between 1 and 65535`);
  return { node: m[1], distPort };
}

/** The secrets every node of a cluster shares, copied from a prepared node's directory. */
export function shareSecrets(from: string, to: string): void {
  const cookie = join(from, '.erlang.cookie');
  if (!existsSync(cookie))
    throw new EjabberdError(`cannot share ${from}'s secrets: it holds no prepared ejabberd (no .erlang.cookie)`);
  mkdirSync(join(to, 'conf'), { recursive: true, mode: 0o750 });
  const copies: Array<[string, string, number]> = [[cookie, join(to, '.erlang.cookie'), 0o400]];
  for (const f of readdirSync(join(from, 'conf')))
    if (f === 'server.pem' || /^jwt.*\.jwk$/.test(f)) copies.push([join(from, 'conf', f), join(to, 'conf', f), 0o600]);
  for (const [src, dst, mode] of copies) {
    if (existsSync(dst)) {
      if (readFileSync(dst).equals(readFileSync(src))) continue;
      throw new EjabberdError(`${dst} differs from ${src}: a node joining a cluster must not have secrets of its own`);
    }
    copyFileSync(src, dst);
    chmodSync(dst, mode);
  }
}

/** Compiles cg_epmd.erl into <dir>/ebin (once). */
export async function compileEpmd(dir: string): Promise<string> {
  const ebin = join(dir, 'ebin');
  if (existsSync(join(ebin, 'cg_epmd.beam'))) return ebin;
  mkdirSync(ebin, { recursive: true, mode: 0o750 });
  const src = [join(here, 'cg_epmd.erl'), join(here, '..', '..', 'ejabberd', 'cg_epmd.erl')].find((p) => existsSync(p));
  if (!src) throw new EjabberdError(`cg_epmd.erl not found beside ${here}`);
  try {
    await execFileP('erlc', ['-o', ebin, src]);
  } catch (err) {
    throw new EjabberdError(
      'could not compile cg_epmd.erl (is erlc, from the Debian package "erlang-base", installed?)',
      '',
      {
        cause: err,
      },
    );
  }
  return ebin;
}

export function peersFile(dir: string): string {
  return join(dir, 'conf', 'peers.eterm');
}

/** Adds (or moves) a peer in the peers file the node reads on each connection it makes. */
export function addPeer(dir: string, peer: PeerNode): void {
  const name = peer.node.split('@')[0];
  const file = peersFile(dir);
  const kept = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith(`{${JSON.stringify(name)},`))
    : [];
  kept.push(`{${JSON.stringify(name)}, ${peer.distPort}}.`);
  writeFileSync(file, `${kept.join('\n')}\n`, { mode: 0o640 });
}

/** The distribution's arguments for a cluster node (cg_epmd instead of epmd). */
export function clusterDistArgs(dir: string, distPort: number): string[] {
  return [
    '-pa',
    join(dir, 'ebin'),
    '-epmd_module',
    'cg_epmd',
    '-cg_dist_port',
    String(distPort),
    '-cg_peers',
    peersFile(dir),
  ];
}
