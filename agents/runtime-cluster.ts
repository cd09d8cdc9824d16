/**
 * The cluster options of `cloudgate ejabberd start`: a node that can be joined
 * (--cluster), a node that joins one (--join name@host[:port], --share-from <dir>), and
 * where its distribution listens (--node-name, --node-host, --dist-port, --dist-ip).
 */
import type { Command } from 'commander';
import { parsePeer, type EjabberdServer, type ServerOptions } from '../ejabberd/index.js';
import { CloudgateError } from '../core/index.js';

export interface ClusterCliOptions {
  cluster?: boolean;
  join?: string;
  shareFrom?: string;
  peer?: string[];
  nodeName?: string;
  nodeHost?: string;
  distPort?: string;
  distIp?: string;
}

export function clusterOptions(cmd: Command): Command {
  return cmd
    .option('--cluster', 'a node other nodes may join (Erlang distribution without epmd, see README)')
    .option(
      '--join <node>',
      "join this node's cluster after starting: name@host, or name@host:port for one on this machine",
    )
    .option('--share-from <dir>', "take the cookie, certificate and JWT keys from this prepared node's directory")
    .option('--peer <node...>', 'another node on this machine, name@host:port (its distribution port)')
    .option('--node-name <name>', 'Erlang node short name (default: a unique one)')
    .option('--node-host <host>', 'Erlang node host part, resolvable by the peers (default localhost)')
    .option(
      '--dist-port <port>',
      'Erlang distribution port (default: a free one; one fixed port on every host of a cluster)',
    )
    .option('--dist-ip <ipv4>', 'address the Erlang distribution listens on (default 127.0.0.1)');
}

/** What the cluster options add to prepare()'s options; throws a usage error naming a bad value. */
export function clusterPrepareOptions(o: ClusterCliOptions): Partial<ServerOptions> & { join?: string } {
  const usage = (msg: string) => new CloudgateError('CG_USAGE', msg);
  if (o.nodeName !== undefined && !/^[A-Za-z][A-Za-z0-9_-]*$/.test(o.nodeName))
    throw usage(`--node-name '${o.nodeName}': letters, digits, - and _ only, starting with a letter`);
  let distPort: number | undefined;
  if (o.distPort !== undefined) {
    distPort = Number(o.distPort);
    if (!Number.isInteger(distPort) || distPort < 1 || distPort > 65535)
      throw usage(`--dist-port '${o.distPort}': expected a port between 1 and 65535`);
  }
  const wrap = <T>(f: () => T) => {
    try {
      return f();
    } catch (err) {
      throw usage((err as Error).message);
    }
  };
  const peers = (o.peer ?? []).map((p) => {
    const { node, distPort: port } = wrap(() => parsePeer(p, '--peer'));
    if (port === undefined) throw usage(`--peer '${p}': give its distribution port, name@host:port`);
    return { node, distPort: port };
  });
  let join: string | undefined;
  if (o.join !== undefined) {
    const j = wrap(() => parsePeer(o.join!, '--join'));
    join = j.node;
    if (j.distPort !== undefined) peers.push({ node: j.node, distPort: j.distPort });
  }
  return {
    cluster: o.cluster === true || join !== undefined || peers.length > 0,
    shareFrom: o.shareFrom,
    peers,
    nodeName: o.nodeName,
    nodeHost: o.nodeHost,
    distPort,
    distIp: o.distIp,
    join,
  };
}

/** After start: joins the cluster if asked, and says which nodes it has. */
export async function joinIfAsked(s: EjabberdServer, join: string | undefined): Promise<string> {
  if (!s.info.cluster) return '';
  if (join) await s.joinCluster(join);
  return `; node ${s.info.node}, distribution ${s.info.distIp ?? '127.0.0.1'}:${s.info.distPort}, cluster ${(await s.clusterNodes()).join(' ')}`;
}
