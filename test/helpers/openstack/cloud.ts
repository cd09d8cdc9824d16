/**
 * A real, single-node OpenStack for tests: Keystone v3, Nova v2.1 with the fake virt
 * driver, Placement, Glance and the Neutron API, over MariaDB and RabbitMQ, all from
 * Debian 12's packages, on free loopback ports and under one directory of its own.
 * Nothing runs under systemd and nothing of /etc or of a system service is touched.
 *
 * Pitfalls this works around (each measured on Debian 12 / Zed):
 * - SQLite fails (Keystone "database is locked", Neutron's migrations): MariaDB.
 * - Nova needs the Neutron API even for servers with `"networks": "none"`.
 * - Service users need the "service" role, or Neutron refuses Nova's calls.
 * - Neutron: when a worker's first query is a port list, port lists fail with 500 until
 *   some other query has run; one network list at start avoids it.
 * - uwsgi's --http-socket closes kept-alive connections silently, so the APIs answer
 *   `Connection: close` (Node's fetch reuses connections).
 * - A boot before nova-compute consumes its RPC queue ends in ERROR; so start waits for
 *   the consumer, then maps the host into cell1 once.
 */
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { canConnect, freePort } from '../../../ejabberd/index.js';
import { AdminClient, type Endpoints } from './admin.js';
import {
  type CloudLayout,
  type CloudPorts,
  keystoneUrl,
  layout,
  PACKAGES,
  PASTE_FILES,
  renderConfigs,
} from './config.js';
import { Daemons, httpAnswers, run, waitFor } from './daemons.js';

export interface CloudInfo {
  dir: string;
  endpoints: Endpoints;
  /** Password of the admin user (project admin) and of every seeded user. */
  password: string;
  tokenLifetimeS: number;
  region: string;
}

export interface StartOptions {
  dir: string;
  /** Keystone's token lifetime in seconds. */
  tokenLifetimeS?: number;
  timeoutMs?: number;
}

/**
 * keystoneauth logs in again whenever its token has under MIN_TOKEN_LIFE_SECONDS (120 s)
 * left: with the test cloud's short tokens every service would log in on every call (700
 * logins for 100 validations, seconds per request on a busy machine). The services of
 * this cloud only (PYTHONPATH) renew 25 s before expiry instead: a request on a busy
 * machine can take several seconds, and a token expiring in flight is refused.
 */
const SITECUSTOMIZE = `try:
    from keystoneauth1.identity import base as _ksa_base
    _ksa_base.BaseIdentityPlugin.MIN_TOKEN_LIFE_SECONDS = 25
except Exception:
    pass
`;

const DATABASES = ['keystone', 'placement', 'glance', 'neutron', 'nova_api', 'nova', 'nova_cell0'];
const SERVICE_USERS = ['nova', 'placement', 'glance', 'neutron'];

/** The uid of a system user that a package created (mysql, rabbitmq). */
function userId(name: string): number {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === name);
  if (!line) throw new Error(`system user "${name}" is missing (is its package installed?)`);
  return Number(line.split(':')[2]);
}

/** Names the Debian packages that are missing, so a failure says what to install. */
export async function missingPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const p of PACKAGES) {
    const ok = await run('dpkg-query', ['-W', '-f=${Status}', p]).then(
      (s) => s.includes('install ok installed'),
      () => false,
    );
    if (!ok) missing.push(p);
  }
  return missing;
}

function uwsgiBinary(): string {
  const found = readdirSync('/usr/bin')
    .filter((f) => f.startsWith('uwsgi_python3'))
    .sort();
  if (found.length === 0) throw new Error('no /usr/bin/uwsgi_python3* (package uwsgi-plugin-python3)');
  return join('/usr/bin', found[found.length - 1]!);
}

export class OpenStackCloud {
  readonly layout: CloudLayout;
  readonly admin: AdminClient;
  private readonly daemons: Daemons;

  private constructor(l: CloudLayout) {
    this.layout = l;
    this.admin = new AdminClient(endpointsOf(l.ports), l.password);
    mkdirSync(l.log, { recursive: true });
    this.daemons = new Daemons(l.log, { PYTHONPATH: join(l.dir, 'python') }, `${l.dir}/`);
  }

  get info(): CloudInfo {
    return {
      dir: this.layout.dir,
      endpoints: this.admin.endpoints,
      password: this.layout.password,
      tokenLifetimeS: this.layout.tokenLifetimeS,
      region: 'RegionOne',
    };
  }

  /** Installs nothing: a missing package fails here in one line naming it. */
  static async start(opts: StartOptions): Promise<OpenStackCloud> {
    const missing = await missingPackages();
    if (missing.length > 0)
      throw new Error(`Debian packages missing: ${missing.join(' ')} (bash scripts/setup.sh installs them as root)`);
    const ports = await pickPorts();
    // Any password will do, nothing here is reachable from off the machine; a fresh one per
    // cloud keeps a left-over cloud from accepting another run's logins.
    const password = `cgt${Math.random().toString(36).slice(2, 12)}`;
    const cloud = new OpenStackCloud(layout(opts.dir, ports, opts.tokenLifetimeS ?? 60, password));
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    try {
      await cloud.boot(deadline);
    } catch (err) {
      await cloud.stop({ keepDir: true }).catch(() => undefined);
      throw new Error(`${(err as Error).message} (logs in ${cloud.layout.log})`);
    }
    return cloud;
  }

  private left(deadline: number): number {
    return Math.max(1000, deadline - Date.now());
  }

  private async boot(deadline: number): Promise<void> {
    const l = this.layout;
    this.writeFiles();
    await this.startDatabase(deadline);
    this.startRabbit();
    await this.initKeystone();
    const uwsgi = uwsgiBinary();
    this.uwsgi(uwsgi, 'keystone', l.ports.keystone, '/usr/bin/keystone-wsgi-public', {
      OS_KEYSTONE_CONFIG_DIR: join(l.etc, 'keystone'),
    });
    // The other databases migrate while Keystone comes up and is seeded.
    await Promise.all([
      this.initServiceDatabases(),
      waitFor('Keystone answering', () => httpAnswers(`${keystoneUrl(l)}/v3`), this.left(deadline)).then(() =>
        this.seedKeystone(),
      ),
      waitFor('RabbitMQ listening', () => canConnect(l.ports.amqp), this.left(deadline)),
    ]);
    this.startServices(uwsgi);
    for (const [name, url] of Object.entries(this.admin.endpoints))
      await waitFor(`${name} API answering`, () => httpAnswers(url), this.left(deadline));
    // See the banner: any query before the first port list.
    await this.admin.call('neutron', 'GET', '/v2.0/networks');
    await waitFor('nova-compute consuming its queue', () => this.computeConsumes(), this.left(deadline));
    await this.nova(['cell_v2', 'discover_hosts']);
    await this.seedCompute();
  }

  private writeFiles(): void {
    const l = this.layout;
    mkdirSync(join(l.dir, 'python'), { recursive: true });
    writeFileSync(join(l.dir, 'python/sitecustomize.py'), SITECUSTOMIZE);
    chmodSync(l.dir, 0o755); // the mysql and rabbitmq users must reach their directories
    for (const d of ['mysql', 'keystone', 'placement', 'glance', 'nova', 'neutron/plugins/ml2'])
      mkdirSync(join(l.etc, d), { recursive: true });
    for (const d of ['images', 'nova/instances', 'locks', 'rabbitmq', 'mysql', 'fernet-keys', 'credential-keys'])
      mkdirSync(join(l.data, d), { recursive: true });
    mkdirSync(l.run, { recursive: true });
    for (const [rel, text] of Object.entries(renderConfigs(l))) writeFileSync(join(l.etc, rel), text);
    for (const [rel, from] of Object.entries(PASTE_FILES)) copyFileSync(from, join(l.etc, rel));
    const mysql = userId('mysql');
    const rabbit = userId('rabbitmq');
    chownSync(join(l.data, 'mysql'), mysql, mysql);
    chownSync(l.run, mysql, mysql);
    writeFileSync(join(l.log, 'mysqld.err'), '');
    chownSync(join(l.log, 'mysqld.err'), mysql, mysql);
    chownSync(join(l.data, 'rabbitmq'), rabbit, rabbit);
  }

  private async sql(statements: string): Promise<void> {
    await run('mariadb', [`--defaults-file=${join(this.layout.etc, 'mysql/my.cnf')}`, '-uroot'], { input: statements });
  }

  private async startDatabase(deadline: number): Promise<void> {
    const l = this.layout;
    const cnf = `--defaults-file=${join(l.etc, 'mysql/my.cnf')}`;
    await run('mariadb-install-db', [cnf, '--skip-test-db', '--auth-root-authentication-method=socket']);
    this.daemons.start('mysql', '/usr/sbin/mariadbd', [cnf]);
    await waitFor('MariaDB answering', () => this.sql('select 1').then(() => true), this.left(deadline));
    await this.sql(
      `${DATABASES.map((d) => `CREATE DATABASE ${d} CHARACTER SET utf8;`).join('\n')}
       CREATE USER 'os'@'127.0.0.1' IDENTIFIED BY '${l.password}';
       GRANT ALL PRIVILEGES ON *.* TO 'os'@'127.0.0.1'; FLUSH PRIVILEGES;`,
    );
  }

  /** RabbitMQ with its own node name, ports and epmd (ERL_EPMD_PORT), so no other Erlang node is met. */
  private rabbitEnv(): Record<string, string> {
    const l = this.layout;
    return {
      RABBITMQ_NODENAME: `cgt${l.ports.amqp}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(l.ports.amqp),
      RABBITMQ_DIST_PORT: String(l.ports.amqpDist),
      ERL_EPMD_PORT: String(l.ports.epmd),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_MNESIA_BASE: join(l.data, 'rabbitmq/mnesia'),
      RABBITMQ_LOG_BASE: join(l.data, 'rabbitmq/log'),
      RABBITMQ_PID_FILE: join(l.data, 'rabbitmq/rabbit.pid'),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  private startRabbit(): void {
    this.daemons.start('rabbitmq', '/usr/sbin/rabbitmq-server', [], this.rabbitEnv());
  }

  private async computeConsumes(): Promise<boolean> {
    const env = this.rabbitEnv();
    const out = await run('rabbitmqctl', ['-n', env.RABBITMQ_NODENAME!, '-q', 'list_queues', 'name', 'consumers'], {
      env,
      timeoutMs: 30_000,
    });
    return /^compute\.testcompute\s+[1-9]/m.test(out);
  }

  private keystoneManage(args: string[]): Promise<string> {
    return run('keystone-manage', ['--config-file', join(this.layout.etc, 'keystone/keystone.conf'), ...args]);
  }

  private async initKeystone(): Promise<void> {
    const url = `${keystoneUrl(this.layout)}/v3/`;
    await this.keystoneManage(['db_sync']);
    await this.keystoneManage(['fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root']);
    await this.keystoneManage(['credential_setup', '--keystone-user', 'root', '--keystone-group', 'root']);
    await this.keystoneManage([
      'bootstrap',
      '--bootstrap-password',
      this.layout.password,
      '--bootstrap-admin-url',
      url,
      '--bootstrap-internal-url',
      url,
      '--bootstrap-public-url',
      url,
      '--bootstrap-region-id',
      'RegionOne',
    ]);
  }

  private nova(args: string[]): Promise<string> {
    return run('nova-manage', ['--config-file', join(this.layout.etc, 'nova/nova.conf'), ...args]);
  }

  private async initServiceDatabases(): Promise<void> {
    const l = this.layout;
    const cellDb = `mysql+pymysql://os:${l.password}@127.0.0.1:${l.ports.mysql}/nova_cell0?charset=utf8`;
    await Promise.all([
      run('placement-manage', ['--config-file', join(l.etc, 'placement/placement.conf'), 'db', 'sync']),
      run('glance-manage', ['--config-file', join(l.etc, 'glance/glance-api.conf'), 'db_sync']),
      run('neutron-db-manage', [
        '--config-file',
        join(l.etc, 'neutron/neutron.conf'),
        '--config-file',
        join(l.etc, 'neutron/plugins/ml2/ml2_conf.ini'),
        'upgrade',
        'heads',
      ]),
      (async () => {
        await this.nova(['api_db', 'sync']);
        await this.nova(['cell_v2', 'map_cell0', '--database_connection', cellDb]);
        await this.nova(['cell_v2', 'create_cell', '--name', 'cell1']);
        await this.nova(['db', 'sync']);
      })(),
    ]);
  }

  private async seedKeystone(): Promise<void> {
    const a = this.admin;
    const service = await a.ensureProject('service');
    const demo = await a.ensureProject('demo');
    const member = await a.ensureRole('member');
    const serviceRole = await a.ensureRole('service');
    const adminRole = await a.ensureRole('admin');
    await a.grant(demo, await a.ensureUser('demo', this.layout.password, demo), member);
    for (const u of SERVICE_USERS) {
      const id = await a.ensureUser(u, this.layout.password, service);
      await a.grant(service, id, adminRole);
      await a.grant(service, id, serviceRole);
    }
    const catalog: Array<[string, string, string]> = [
      ['compute', 'nova', a.endpoints.nova],
      ['placement', 'placement', a.endpoints.placement],
      ['image', 'glance', a.endpoints.glance],
      ['network', 'neutron', a.endpoints.neutron],
    ];
    for (const [type, name, url] of catalog) {
      const { service: s } = await a.call<{ service: { id: string } }>('keystone', 'POST', '/v3/services', {
        service: { type, name },
      });
      for (const iface of ['public', 'internal', 'admin'])
        await a.call('keystone', 'POST', '/v3/endpoints', {
          endpoint: { service_id: s.id, interface: iface, url, region_id: 'RegionOne' },
        });
    }
  }

  private async seedCompute(): Promise<void> {
    const a = this.admin;
    for (const [id, name, ram, vcpus, disk] of [
      ['1', 'm1.tiny', 512, 1, 1],
      ['2', 'm1.small', 2048, 1, 20],
      ['3', 'm1.medium', 4096, 2, 40],
    ] as const)
      await a.call('nova', 'POST', '/flavors', { flavor: { id, name, ram, vcpus, disk } });
    const image = await a.call<{ id: string }>('glance', 'POST', '/v2/images', {
      name: 'cirros',
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'public',
    });
    // The fake virt driver never reads the image: 1 MiB of zeros gives it a size and a checksum.
    await a.call('glance', 'PUT', `/v2/images/${image.id}/file`, new Uint8Array(1024 * 1024), {
      'content-type': 'application/octet-stream',
    });
  }

  private uwsgi(
    bin: string,
    name: string,
    port: number,
    app: string,
    env: Record<string, string>,
    procs = 1,
    threads = 4,
  ) {
    const l = this.layout;
    this.daemons.start(
      name,
      bin,
      [
        '--master',
        '--die-on-term',
        '--need-app',
        '--lazy-apps',
        '--http-socket',
        `127.0.0.1:${port}`,
        '--processes',
        String(procs),
        '--threads',
        String(threads),
        '--enable-threads',
        '--add-header',
        'Connection: close',
        '--buffer-size',
        '65535',
        '--wsgi-file',
        app,
        '--logto',
        join(l.log, `${name}.uwsgi.log`),
      ],
      env,
    );
  }

  private startServices(uwsgi: string): void {
    const l = this.layout;
    const novaConf = join(l.etc, 'nova/nova.conf');
    this.uwsgi(uwsgi, 'placement', l.ports.placement, '/usr/bin/placement-api', {
      OS_PLACEMENT_CONFIG_DIR: join(l.etc, 'placement'),
    });
    // Glance, Neutron and Nova run on eventlet, whose hub breaks ("cannot switch to a
    // different thread") under uwsgi threads once requests overlap: one thread per process.
    this.uwsgi(
      uwsgi,
      'glance',
      l.ports.glance,
      '/usr/bin/glance-wsgi-api',
      { OS_GLANCE_CONFIG_DIR: join(l.etc, 'glance') },
      2,
      1,
    );
    // One Neutron worker: each worker must run some query before its first port list (see
    // the banner), and which worker gets a request is uwsgi's choice.
    this.uwsgi(
      uwsgi,
      'neutron',
      l.ports.neutron,
      '/usr/bin/neutron-api',
      { OS_NEUTRON_CONFIG_DIR: join(l.etc, 'neutron') },
      1,
      1,
    );
    this.uwsgi(
      uwsgi,
      'nova-api',
      l.ports.nova,
      '/usr/bin/nova-api-wsgi',
      { OS_NOVA_CONFIG_DIR: join(l.etc, 'nova') },
      2,
      1,
    );
    this.daemons.start('nova-conductor', '/usr/bin/nova-conductor', ['--config-file', novaConf]);
    this.daemons.start('nova-scheduler', '/usr/bin/nova-scheduler', ['--config-file', novaConf]);
    // The nova-compute wrapper lives in a package that pulls in a hypervisor; the code is in python3-nova.
    this.daemons.start('nova-compute', '/usr/bin/python3', [
      '-c',
      'import sys; from nova.cmd.compute import main; sys.exit(main())',
      '--config-file',
      novaConf,
      '--log-file',
      join(l.log, 'nova-compute.log'),
    ]);
  }

  /** Stops every daemon (and RabbitMQ's epmd) and removes the directory unless asked to keep it. */
  async stop({ keepDir = false } = {}): Promise<void> {
    await this.daemons.stop([
      'nova-compute',
      'nova-scheduler',
      'nova-conductor',
      'nova-api',
      'neutron',
      'glance',
      'placement',
      'keystone',
    ]);
    await this.daemons.stop(['rabbitmq', 'mysql']);
    await killListener(this.layout.ports.epmd);
    if (!keepDir && existsSync(this.layout.dir)) rmSync(this.layout.dir, { recursive: true, force: true });
  }
}

function endpointsOf(p: CloudPorts): Endpoints {
  const at = (port: number, path = '') => `http://127.0.0.1:${port}${path}`;
  return {
    keystone: at(p.keystone),
    nova: at(p.nova, '/v2.1'),
    glance: at(p.glance),
    placement: at(p.placement),
    neutron: at(p.neutron),
  };
}

async function pickPorts(): Promise<CloudPorts> {
  const taken = new Set<number>();
  const one = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  return {
    mysql: await one(),
    amqp: await one(),
    amqpDist: await one(),
    epmd: await one(),
    keystone: await one(),
    placement: await one(),
    glance: await one(),
    neutron: await one(),
    nova: await one(),
  };
}

/** epmd daemonizes out of our process groups: it is found by the port it listens on. */
async function killListener(port: number): Promise<void> {
  const out = await run('ss', ['-ltnpH', `sport = :${port}`]).catch(() => '');
  for (const m of out.matchAll(/pid=(\d+)/g)) {
    try {
      process.kill(Number(m[1]), 'SIGTERM');
    } catch {
      // gone
    }
  }
}
