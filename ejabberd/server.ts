/**
 * A project-local ejabberd: its own config dir, spool, logs, Erlang node name, cookie
 * and ports. It never reads /etc/ejabberd and never talks to a system server: Erlang
 * distribution runs on its own port with no epmd (ERL_DIST_PORT style), so two servers
 * (or a system one) never meet.
 *
 * The cookie lets whoever knows it run code in the server (and read every key it holds),
 * so it is never put on a command line or in an environment, which any local user can
 * read from /proc: it lives in <dir>/.erlang.cookie (0400, the server's user), where
 * Erlang looks for it, HOME being <dir> for the server and for ejabberdctl calls alike.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync, openSync, closeSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { renderConfig, type ComponentSpec, type HostSpec } from './config.js';
import { erlangSystem } from './system.js';
import { freePort, portInUse, canConnect, listenerOwnedBy } from './ports.js';
import { EjabberdError } from './errors.js';
import { checkReachable, chownTree, makeCertificate, writeCookie, writeJwk } from './files.js';
import { addPeer, clusterDistArgs, compileEpmd, shareSecrets, type PeerNode } from './cluster.js';

const execFileP = promisify(execFile);

export interface ServerOptions {
  /** Directory holding conf/, spool/ and logs/. Created if missing. */
  dir: string;
  /** Main XMPP domain (users, agents, pubsub.<host>). */
  host?: string;
  /** Further hosts; a host with `ownJwtKey` gets its own JWT key (hostJwtKeyFiles). */
  extraHosts?: Array<{ name: string; ownJwtKey?: boolean }>;
  /**
   * The main host (and extra hosts without a key of their own) also take JWT logins minted
   * with conf/jwt.jwk, the operator's key: whoever holds it logs in as any of their JIDs,
   * admins and the gateway included. Off by default: there, agents and people log in with
   * their own passwords and no key mints a main-host login. Tests and benchmarks that mint
   * many throw-away identities turn it on; no agent configuration ever names that key.
   */
  operatorJwt?: boolean;
  ip?: string;
  c2sPort?: number;
  componentPort?: number;
  distPort?: number;
  components?: ComponentSpec[];
  admins?: string[];
  /**
   * The gateway and cloud agents (bare JIDs, or host names for all of a host's accounts):
   * they alone may create PubSub nodes, and they are not shaped. Everyone else on the
   * main host counts as a person (see renderConfig).
   */
  agents?: string[];
  /** Offline messages kept for a person's account (default PEOPLE_LIMITS.maxOffline). */
  maxOfflinePeople?: number;
  /** XEP-0198 stanzas a session may leave unacknowledged before it is closed (default 10000). */
  maxAckQueue?: number;
  logLevel?: 'critical' | 'error' | 'warning' | 'info' | 'debug';
  /** Erlang short node name; defaults to a unique one. */
  nodeName?: string;
  /** The node's host name (default localhost); across hosts, one the peers resolve. */
  nodeHost?: string;
  /** The address Erlang distribution listens on (default 127.0.0.1); across hosts, the cluster network's. */
  distIp?: string;
  /**
   * A node that can form or join a cluster (see cluster.ts): its distribution finds peers
   * through conf/peers.eterm rather than assuming they share its port.
   */
  cluster?: boolean;
  /** A prepared node's directory whose cookie, certificate and JWT keys this node shares. */
  shareFrom?: string;
  /** Peers on this machine (their distribution ports differ from this node's). */
  peers?: PeerNode[];
  startTimeoutMs?: number;
}

/** What a started server tells its clients. Written to <dir>/server.json. */
export interface ServerInfo {
  dir: string;
  host: string;
  hosts: string[];
  ip: string;
  c2sPort: number;
  componentPort: number;
  distPort: number;
  node: string;
  distIp?: string;
  cluster?: boolean;
  /** The operator's key; it logs in to the main host only where `operatorJwt` is true. */
  jwtKeyFile: string;
  operatorJwt?: boolean;
  hostJwtKeyFiles: Record<string, string>;
  components: ComponentSpec[];
  certFile: string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Whatever happens to this process, a server it started does not outlive it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) killGroup(c.pid, 'SIGKILL');
  });
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    /* gone */
  }
}

export class EjabberdServer {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  private constructor(readonly info: ServerInfo) {}

  get dir(): string {
    return this.info.dir;
  }
  get logFile(): string {
    return join(this.info.dir, 'logs', 'ejabberd.log');
  }

  /** Prepares the directory (config, certificate, JWT keys, cookie) without starting. */
  static async prepare(opts: ServerOptions): Promise<EjabberdServer> {
    const dir = resolve(opts.dir);
    const host = opts.host ?? 'localhost';
    const ip = opts.ip ?? '127.0.0.1';
    const sys = erlangSystem();
    const conf = join(dir, 'conf');
    for (const d of [dir, conf, join(dir, 'spool'), join(dir, 'logs')]) mkdirSync(d, { recursive: true, mode: 0o750 });
    if (opts.distIp !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(opts.distIp))
      throw new EjabberdError(`distribution address '${opts.distIp}': expected an IPv4 address such as 10.0.0.5`);
    if (opts.shareFrom) shareSecrets(resolve(opts.shareFrom), dir);
    if (sys.runAs) checkReachable(dir, sys.runAs);

    const certFile = join(conf, 'server.pem');
    const hostNames = [host, ...(opts.extraHosts ?? []).map((h) => h.name)];
    if (!existsSync(certFile)) await makeCertificate(conf, hostNames);
    const jwtKeyFile = join(conf, 'jwt.jwk');
    if (!existsSync(jwtKeyFile)) writeJwk(jwtKeyFile);
    const hostJwtKeyFiles: Record<string, string> = {};
    for (const h of opts.extraHosts ?? []) {
      if (!h.ownJwtKey) continue;
      const f = join(conf, `jwt-${h.name}.jwk`);
      if (!existsSync(f)) writeJwk(f);
      hostJwtKeyFiles[h.name] = f;
    }
    writeCookie(dir);

    const info: ServerInfo = {
      dir,
      host,
      hosts: hostNames,
      ip,
      c2sPort: opts.c2sPort || (await freePort(ip)),
      componentPort: opts.componentPort || (await freePort(ip)),
      distPort: opts.distPort || (await freePort(ip)),
      node: `${opts.nodeName ?? `cg${process.pid}x${randomBytes(3).toString('hex')}`}@${opts.nodeHost ?? 'localhost'}`,
      distIp: opts.distIp,
      cluster: opts.cluster === true || (opts.peers?.length ?? 0) > 0 || undefined,
      jwtKeyFile,
      operatorJwt: opts.operatorJwt === true,
      hostJwtKeyFiles,
      components: opts.components ?? [],
      certFile,
    };
    const passwordOnly = !info.operatorJwt;
    const hosts: HostSpec[] = [
      { name: host, passwordOnly },
      ...(opts.extraHosts ?? []).map((h) => {
        const jwtKeyFile = hostJwtKeyFiles[h.name];
        return jwtKeyFile ? { name: h.name, jwtKeyFile } : { name: h.name, passwordOnly };
      }),
    ];
    writeFileSync(
      join(conf, 'ejabberd.yml'),
      renderConfig({
        hosts,
        ip,
        c2sPort: info.c2sPort,
        componentPort: info.componentPort,
        certFile,
        jwtKeyFile,
        components: info.components,
        admins: opts.admins ?? [],
        logLevel: opts.logLevel,
        agents: opts.agents,
        maxOfflinePeople: opts.maxOfflinePeople,
        maxAckQueue: opts.maxAckQueue,
      }),
    );
    // Erlang resolves names through this file; an empty one means the system resolver.
    writeFileSync(join(conf, 'inetrc'), '{lookup, [file, native]}.\n{host,{127,0,0,1}, ["localhost"]}.\n');
    writeFileSync(join(dir, 'server.json'), JSON.stringify(info, null, 2), { mode: 0o600 });
    if (info.cluster) {
      await compileEpmd(dir);
      for (const p of opts.peers ?? []) addPeer(dir, p);
    }
    if (sys.runAs) chownTree(dir, sys.runAs.uid, sys.runAs.gid);
    return new EjabberdServer(info);
  }

  /** Reads back a server prepared earlier (operator commands: status, stop). */
  static load(dir: string): EjabberdServer {
    const file = join(resolve(dir), 'server.json');
    if (!existsSync(file)) throw new EjabberdError(`no ejabberd prepared in ${resolve(dir)} (missing server.json)`);
    return new EjabberdServer(JSON.parse(readFileSync(file, 'utf8')) as ServerInfo);
  }

  private erlArgs(): string[] {
    const { info } = this;
    return [
      longNames(info.node) ? '-name' : '-sname',
      info.node,
      '+K',
      'true',
      '+P',
      '250000',
      '-env',
      'ERL_CRASH_DUMP_BYTES',
      '0',
      '-kernel',
      'inet_dist_use_interface',
      `{${(info.distIp ?? '127.0.0.1').split('.').join(',')}}`,
      ...(info.cluster ? clusterDistArgs(info.dir, info.distPort) : ['-erl_epmd_port', String(info.distPort)]),
      '-start_epmd',
      'false',
      '-mnesia',
      'dir',
      JSON.stringify(join(info.dir, 'spool')),
      '-s',
      'ejabberd',
      '-noinput',
    ];
  }

  private env(): NodeJS.ProcessEnv {
    const sys = erlangSystem();
    const conf = join(this.info.dir, 'conf');
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.info.dir,
      LANG: 'C.UTF-8',
      ERL_LIBS: sys.erlLibs,
      EJABBERD_CONFIG_PATH: join(conf, 'ejabberd.yml'),
      EJABBERD_LOG_PATH: this.logFile,
      ERL_INETRC: join(conf, 'inetrc'),
      ERL_CRASH_DUMP: join(this.info.dir, 'logs', 'erl_crash.dump'),
      ERL_MAX_PORTS: '65536',
      ERL_MAX_ETS_TABLES: '2800',
      CONTRIB_MODULES_PATH: join(this.info.dir, 'contrib'),
    };
  }

  /**
   * Starts the server and resolves once both listeners accept connections (its own, not
   * another process's). A server that exits fails at once; one that stays silent fails
   * after `timeoutMs` (90 s: on a busy 2-core machine a start has taken over 30 s).
   * `detached`: the server outlives this process (operator `cloudgate ejabberd start`).
   */
  async start({
    detached = false,
    timeoutMs = 90_000,
  }: {
    detached?: boolean;
    timeoutMs?: number;
  } = {}): Promise<void> {
    const { info } = this;
    for (const [what, port] of [
      ['client-to-server', info.c2sPort],
      ['component', info.componentPort],
      ['Erlang distribution', info.distPort],
    ] as const) {
      if (await portInUse(port, info.ip)) {
        throw new EjabberdError(
          `cannot start ejabberd in ${info.dir}: ${what} port ${info.ip}:${port} is already in use`,
        );
      }
    }
    const sys = erlangSystem();
    const outFile = join(info.dir, 'logs', 'erl.out');
    const out = openSync(outFile, 'a');
    const child = spawn(sys.erl, this.erlArgs(), {
      cwd: join(info.dir, 'spool'),
      env: this.env(),
      detached: true, // own process group: stop() signals beam and its helpers together
      stdio: ['ignore', out, out],
      uid: sys.runAs?.uid,
      gid: sys.runAs?.gid,
    });
    closeSync(out);
    this.child = child;
    this.exited = new Promise((res) =>
      child.once('exit', (code) => {
        live.delete(child);
        res(code);
      }),
    );
    writeFileSync(join(info.dir, 'ejabberd.pid'), String(child.pid));
    if (detached) child.unref();
    else {
      live.add(child);
      installExitHook();
      watchParent(child.pid!);
    }

    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((c) => {
      exitCode = c;
    });
    while (Date.now() < deadline) {
      if (exitCode !== undefined) {
        const tail = this.logTail();
        const taken = /eaddrinuse/i.test(tail)
          ? ': one of its ports was taken by another process after it was checked (eaddrinuse)'
          : '';
        throw new EjabberdError(`ejabberd in ${info.dir} exited during start-up (code ${exitCode})${taken}`, tail);
      }
      // Something answering is not enough: another process may hold the port, and this
      // server is then about to exit for want of it.
      if (
        (await canConnect(info.c2sPort, info.ip)) &&
        (await canConnect(info.componentPort, info.ip)) &&
        listenerOwnedBy(child.pid!, info.c2sPort) !== false &&
        listenerOwnedBy(child.pid!, info.componentPort) !== false
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop();
    throw new EjabberdError(
      `ejabberd in ${info.dir} did not accept connections within ${timeoutMs} ms`,
      this.logTail(),
    );
  }

  /** Stops the server (SIGTERM to its process group, SIGKILL after a grace period). */
  async stop(graceMs = 10000): Promise<void> {
    const pid = this.child?.pid ?? this.pidFromFile();
    if (!pid) return;
    killGroup(pid, 'SIGTERM');
    if (this.exited) {
      const t = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(t);
      killGroup(pid, 'SIGKILL'); // helpers (erl_child_setup) that outlived beam
    } else {
      const deadline = Date.now() + graceMs;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      killGroup(pid, 'SIGKILL');
    }
    rmSync(join(this.info.dir, 'ejabberd.pid'), { force: true });
    this.child = undefined;
  }

  /** Kills the server at once (fault tests). */
  kill(): void {
    killGroup(this.child?.pid ?? this.pidFromFile(), 'SIGKILL');
  }

  async status(): Promise<{ running: boolean; pid?: number; c2s: boolean; component: boolean }> {
    const pid = this.child?.pid ?? this.pidFromFile();
    const running = !!pid && alive(pid);
    return {
      running,
      pid,
      c2s: running && (await canConnect(this.info.c2sPort, this.info.ip)),
      component: running && (await canConnect(this.info.componentPort, this.info.ip)),
    };
  }

  private pidFromFile(): number | undefined {
    try {
      return Number(readFileSync(join(this.info.dir, 'ejabberd.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  }

  /** Runs an ejabberdctl command against this node (e.g. status). Arguments are public: no secrets. */
  async ctl(...args: string[]): Promise<string> {
    return this.runCtl(['-noinput', '-s', 'ejabberd_ctl'], args);
  }

  /**
   * Registers an account or sets its password. Not through ejabberdctl's argument list,
   * which is world-readable in /proc (and which stores a non-ASCII password mis-encoded):
   * the password goes through stdin as UTF-8 bytes to ejabberd_auth on the node.
   */
  private async setPassword(
    how: 'try_register' | 'set_password',
    user: string,
    host: string,
    password: string,
  ): Promise<void> {
    if (/[\r\n]/.test(password))
      throw new EjabberdError(
        `${how === 'try_register' ? 'register' : 'change_password'} ${user}@${host}: a password may not contain a line break`,
      );
    const code =
      `[N, F, U, H] = init:get_plain_arguments(), io:setopts(standard_io, [binary, {encoding, unicode}]),` +
      ` P = string:trim(io:get_line(""), trailing, "\\r\\n"),` +
      ` R = rpc:call(list_to_atom(N), ejabberd_auth, list_to_atom(F), [unicode:characters_to_binary(U), unicode:characters_to_binary(H), P]),` +
      ` case R of ok -> halt(0); {error, exists} -> io:format("already registered~n"), halt(1); _ -> io:format("~p~n", [R]), halt(1) end.`;
    await this.runCtl(['-noshell', '-eval', code], [how, user, host], `${password}\n`);
  }

  private async runCtl(how: string[], args: string[], input?: string): Promise<string> {
    const { info } = this;
    const sys = erlangSystem();
    const ctlArgs = [
      // A node with a dotted host (a real host's name) takes long names, and so its callers.
      ...(longNames(info.node)
        ? ['-name', `ctl${randomBytes(4).toString('hex')}@127.0.0.1`]
        : ['-sname', `ctl${randomBytes(4).toString('hex')}@localhost`]),
      '-hidden',
      '-erl_epmd_port',
      String(info.distPort),
      '-start_epmd',
      'false',
      '-dist_listen',
      'false',
      ...how,
      '-extra',
      info.node,
      ...args,
    ];
    try {
      const run = execFileP(sys.erl, ctlArgs, {
        env: this.env(),
        cwd: info.dir,
        timeout: 60000,
        uid: sys.runAs?.uid,
        gid: sys.runAs?.gid,
      });
      run.child.stdin?.end(input ?? '');
      const { stdout } = await run;
      return stdout.trim();
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      throw new EjabberdError(
        `${input === undefined ? 'ejabberdctl ' : ''}${args[0]} failed (exit ${e.code}): ${(e.stdout ?? '').trim()} ${(e.stderr ?? '').trim()}`.trim(),
        '',
        { cause: err },
      );
    }
  }

  /**
   * Joins the cluster of `node` (ejabberd's join_cluster: this node's Mnesia data is
   * replaced by copies of the cluster's tables) and resolves once both list each other.
   */
  async joinCluster(node: string, timeoutMs = 60000): Promise<void> {
    if (!this.info.cluster)
      throw new EjabberdError(`the ejabberd in ${this.dir} was not prepared as a cluster node (cluster option)`);
    const deadline = Date.now() + timeoutMs;
    // join_cluster stops ejabberd on this node and starts it again. Its listeners accept
    // before ejabberd has finished starting; a join then finds nothing to stop, and its
    // own start fails (already_started) with this node half joined.
    let why = '';
    await this.pollUntil(
      deadline,
      () =>
        this.ctl('status').then(
          () => true,
          (e: Error) => {
            why = e.message;
            return false;
          },
        ),
      () => `ejabberd on ${this.info.node} had not finished starting by the deadline: ${why}`,
    );
    try {
      await this.ctl('join_cluster', node);
    } catch (err) {
      throw new EjabberdError(`joining ${node} from ${this.info.node}: ${(err as Error).message}`, '', { cause: err });
    }
    await this.pollUntil(
      deadline,
      async () => {
        const nodes = await this.clusterNodes().catch(() => [] as string[]);
        // join_cluster restarts ejabberd on this node: its listeners come back after the copy.
        return (
          nodes.includes(node) && nodes.includes(this.info.node) && (await canConnect(this.info.c2sPort, this.info.ip))
        );
      },
      () => `${this.info.node} did not list ${node} in its cluster within ${timeoutMs} ms`,
    );
  }

  /** Checks every 200 ms until `done`; past `deadline`, fails with `failure` and the log's tail. */
  private async pollUntil(deadline: number, done: () => Promise<boolean>, failure: () => string): Promise<void> {
    while (!(await done())) {
      if (Date.now() > deadline) throw new EjabberdError(failure(), this.logTail());
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The nodes of this node's cluster (ejabberdctl list_cluster), itself included. */
  async clusterNodes(): Promise<string[]> {
    const out = await this.ctl('list_cluster');
    return out
      .split(/\s+/)
      .map((n) => n.replace(/^'|'$/g, ''))
      .filter(Boolean);
  }

  /** Tells this node where a peer on the same machine listens (see cluster.ts). */
  addPeer(peer: PeerNode): void {
    addPeer(this.dir, peer);
    const sys = erlangSystem();
    if (sys.runAs) chownTree(join(this.dir, 'conf'), sys.runAs.uid, sys.runAs.gid);
  }

  /** Registers an account; fails if it exists. The password never appears in a process's arguments. */
  async register(user: string, host: string, password: string): Promise<void> {
    await this.account(user, host, password, { replace: false });
  }

  /** Gives an existing account this password. */
  async changePassword(user: string, host: string, password: string): Promise<void> {
    await this.setPassword('set_password', user, host, password);
  }

  /** Registers an account, or gives an existing one this password (`replace`). */
  async account(user: string, host: string, password: string, { replace = true } = {}): Promise<void> {
    if (!password) throw new EjabberdError(`account ${user}@${host}: the password is empty`);
    try {
      await this.setPassword('try_register', user, host, password);
    } catch (err) {
      const why = (err as Error).message;
      if (/already registered/.test(why)) {
        if (replace) return this.setPassword('set_password', user, host, password);
        throw new EjabberdError(`account ${user}@${host}: already registered`, '', { cause: err });
      }
      if (/\bnodedown\b/.test(why))
        throw new EjabberdError(`account ${user}@${host}: the ejabberd in ${this.info.dir} is not running`, '', {
          cause: err,
        });
      throw new EjabberdError(`account ${user}@${host}: ${why}`, '', { cause: err });
    }
  }

  /** The last lines of ejabberd's log, or of the Erlang VM's output if ejabberd wrote none. */
  logTail(lines = 30): string {
    for (const f of [this.logFile, join(this.info.dir, 'logs', 'erl.out')]) {
      try {
        const text = readFileSync(f, 'utf8').trimEnd();
        if (text) return text.split('\n').slice(-lines).join('\n');
      } catch {
        /* no such log yet */
      }
    }
    return '';
  }

  /** Removes the server's directory (after stop). */
  remove(): void {
    rmSync(this.info.dir, { recursive: true, force: true });
  }
}

/**
 * A process killed with SIGKILL runs no exit hook: a tiny watchdog kills the server's
 * process group once this process is gone, so a crashed test never leaves a server.
 */
function watchParent(pgid: number): void {
  const w = spawn(
    '/bin/sh',
    [
      '-c',
      'while kill -0 "$0" 2>/dev/null && kill -0 -"$1" 2>/dev/null; do sleep 1; done; kill -KILL -"$1" 2>/dev/null',
      String(process.pid),
      String(pgid),
    ],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  w.unref();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Erlang short names cannot carry a dotted host (xmpp1.example.org, an address): those take -name. */
function longNames(node: string): boolean {
  return node.slice(node.indexOf('@') + 1).includes('.');
}
