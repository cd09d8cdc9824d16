/**
 * A throw-away project-local ejabberd for one benchmark run, with extra hosts that have
 * their own JWT key (a cloud agent's instances), always stopped and removed, also on
 * Ctrl-C. Memory and CPU time of its Erlang VM are read from /proc.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EjabberdServer, type ServerInfo } from '../../ejabberd/index.js';
import { loadJwtKey, type JwtKey } from '../../core/index.js';
import { beamMemory, beamPid, processCpuS, type Rss } from './proc.js';

export interface BenchEjabberd {
  server: EjabberdServer;
  info: ServerInfo;
  /** The main host (agents, users). */
  host: string;
  /** xmpp://ip:port */
  service: string;
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
  version: string;
  /** The JWT key of `host` (default: the main host, if it takes the operator's key). */
  key(host?: string): Promise<JwtKey>;
  /** Its Erlang VM's RSS now and at its peak. */
  memory(): Rss | undefined;
  /** CPU seconds its Erlang VM has used. */
  cpuS(): number | undefined;
}

export interface EjabberdOptions {
  extraHosts?: Array<{ name: string; ownJwtKey?: boolean }>;
  /** The benchmark's own sessions on the main host log in with the operator's key. */
  operatorJwt?: boolean;
}

export async function withEjabberd<T>(o: EjabberdOptions, use: (s: BenchEjabberd) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-bench-'));
  // Benchmark agents log in under many names: all of the hosts' accounts are agents.
  const server = await EjabberdServer.prepare({
    dir,
    logLevel: 'warning',
    extraHosts: o.extraHosts,
    operatorJwt: o.operatorJwt,
    agents: ['localhost', ...(o.extraHosts ?? []).map((h) => h.name)],
  });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= server.stop().finally(() => server.remove()));
  const onSignal = () => {
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await server.start();
    const info = server.info;
    const status = await server.ctl('status').catch(() => '');
    const keys = new Map<string, Promise<JwtKey>>();
    const pid = Number(readFileSync(join(dir, 'ejabberd.pid'), 'utf8').trim());
    return await use({
      server,
      info,
      host: info.host,
      service: `xmpp://${info.ip}:${info.c2sPort}`,
      ca: readFileSync(info.certFile, 'utf8'),
      version: /ejabberd (\S+) is running/.exec(status)?.[1] ?? 'unknown',
      key(host = info.host) {
        const file = host === info.host ? (info.operatorJwt ? info.jwtKeyFile : undefined) : info.hostJwtKeyFiles[host];
        if (!file)
          return Promise.reject(
            new Error(`host ${host} takes no JWT login (no key of its own, and not the operator's)`),
          );
        if (!keys.has(host)) keys.set(host, loadJwtKey(file));
        return keys.get(host)!;
      },
      // The server runs in its own process group led by the pid it recorded.
      memory: () => beamMemory(pid),
      cpuS: () => {
        const b = beamPid(pid);
        return b === undefined ? undefined : processCpuS(b);
      },
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await stop();
  }
}
