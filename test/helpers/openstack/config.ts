/**
 * The configuration files of the test cloud (Debian 12's OpenStack Zed packages), all
 * under one directory and on the ports picked for this run. Every service binds
 * 127.0.0.1; nothing under /etc is written or read but the packaged paste files.
 */
import { join } from 'node:path';

export interface CloudPorts {
  mysql: number;
  amqp: number;
  amqpDist: number;
  epmd: number;
  keystone: number;
  placement: number;
  glance: number;
  neutron: number;
  nova: number;
}

export interface CloudLayout {
  dir: string;
  etc: string;
  data: string;
  log: string;
  run: string;
  ports: CloudPorts;
  /** The password of every Keystone user of the test cloud (it holds nothing but test data). */
  password: string;
  /** Keystone's token lifetime: short, so that tests see tokens expire during work. */
  tokenLifetimeS: number;
}

export function layout(dir: string, ports: CloudPorts, tokenLifetimeS: number, password: string): CloudLayout {
  return {
    dir,
    etc: join(dir, 'etc'),
    data: join(dir, 'data'),
    log: join(dir, 'log'),
    run: join(dir, 'run'),
    ports,
    password,
    tokenLifetimeS,
  };
}

export const keystoneUrl = (l: CloudLayout) => `http://127.0.0.1:${l.ports.keystone}`;
const db = (l: CloudLayout, name: string) =>
  `mysql+pymysql://os:${l.password}@127.0.0.1:${l.ports.mysql}/${name}?charset=utf8`;
const rabbit = (l: CloudLayout) => `rabbit://guest:guest@127.0.0.1:${l.ports.amqp}/`;

function authtoken(l: CloudLayout, user: string): string {
  // nova sends its own X-Service-Token with every call; keystonemiddleware refuses the
  // whole request unless that token carries the "service" role.
  return `[keystone_authtoken]
www_authenticate_uri = ${keystoneUrl(l)}
auth_url = ${keystoneUrl(l)}
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = ${user}
password = ${l.password}
service_token_roles_required = true
`;
}

function client(l: CloudLayout, section: string, user: string, extra = ''): string {
  return `[${section}]
${extra}
auth_url = ${keystoneUrl(l)}
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = ${user}
password = ${l.password}
region_name = RegionOne
`;
}

/** path (relative to etc/) → contents */
export function renderConfigs(l: CloudLayout): Record<string, string> {
  const { data, log, run, ports } = l;
  return {
    'mysql/my.cnf': `[client]
socket = ${run}/mysqld.sock
[mysqld]
user = mysql
datadir = ${data}/mysql
socket = ${run}/mysqld.sock
pid-file = ${run}/mysqld.pid
log-error = ${log}/mysqld.err
bind-address = 127.0.0.1
port = ${ports.mysql}
skip-name-resolve
skip-log-bin
performance_schema = OFF
max_connections = 500
innodb_buffer_pool_size = 64M
innodb_log_file_size = 32M
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
`,
    // bcrypt at its lowest cost: services authenticate again and again with short tokens.
    'keystone/keystone.conf': `[DEFAULT]
log_file = ${log}/keystone.log
[database]
connection = ${db(l, 'keystone')}
[identity]
password_hash_rounds = 4
[token]
provider = fernet
expiration = ${l.tokenLifetimeS}
[fernet_tokens]
key_repository = ${data}/fernet-keys
[fernet_receipts]
key_repository = ${data}/fernet-keys
[credential]
key_repository = ${data}/credential-keys
[oslo_policy]
enforce_new_defaults = false
`,
    'placement/placement.conf': `[DEFAULT]
log_file = ${log}/placement.log
[api]
auth_strategy = keystone
[placement_database]
connection = ${db(l, 'placement')}
${authtoken(l, 'placement')}`,
    'glance/glance-api.conf': `[DEFAULT]
log_file = ${log}/glance-api.log
[database]
connection = ${db(l, 'glance')}
[paste_deploy]
flavor = keystone
[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = ${data}/images/
[os_glance_staging_store]
filesystem_store_datadir = ${data}/images-staging/
[os_glance_tasks_store]
filesystem_store_datadir = ${data}/images-tasks/
[oslo_concurrency]
lock_path = ${data}/locks
${authtoken(l, 'glance')}`,
    'neutron/neutron.conf': `[DEFAULT]
log_file = ${log}/neutron-api.log
core_plugin = ml2
service_plugins =
auth_strategy = keystone
api_paste_config = ${l.etc}/neutron/api-paste.ini
transport_url = ${rabbit(l)}
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
allow_overlapping_ips = true
dhcp_agent_notification = false
[database]
connection = ${db(l, 'neutron')}
[oslo_concurrency]
lock_path = ${data}/locks
[agent]
root_helper = /bin/true
${authtoken(l, 'neutron')}`,
    'neutron/plugins/ml2/ml2_conf.ini': `[ml2]
type_drivers = flat,local
tenant_network_types = local
mechanism_drivers =
extension_drivers = port_security
`,
    'nova/nova.conf': `[DEFAULT]
log_dir = ${log}
state_path = ${data}/nova
instances_path = ${data}/nova/instances
transport_url = ${rabbit(l)}
compute_driver = fake.FakeDriver
host = testcompute
my_ip = 127.0.0.1
enabled_apis = osapi_compute
heal_instance_info_cache_interval = -1
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = ${l.etc}/nova/api-paste.ini
[api_database]
connection = ${db(l, 'nova_api')}
[database]
connection = ${db(l, 'nova')}
[conductor]
workers = 1
[scheduler]
workers = 1
[oslo_concurrency]
lock_path = ${data}/locks
[oslo_messaging_notifications]
driver = noop
[vnc]
enabled = false
[glance]
endpoint_override = http://127.0.0.1:${ports.glance}
${authtoken(l, 'nova')}
${client(l, 'placement', 'placement')}
${client(l, 'neutron', 'neutron', `endpoint_override = http://127.0.0.1:${ports.neutron}`)}`,
  };
}

/** The packaged paste files each API reads its pipeline from, copied beside its config. */
export const PASTE_FILES: Record<string, string> = {
  'glance/glance-api-paste.ini': '/etc/glance/glance-api-paste.ini',
  'neutron/api-paste.ini': '/etc/neutron/api-paste.ini',
  'nova/api-paste.ini': '/etc/nova/api-paste.ini',
};

/** The Debian packages the test cloud runs from (installed by scripts/setup.sh). */
export const PACKAGES = [
  'keystone',
  'placement-api',
  'glance-api',
  'nova-api',
  'nova-conductor',
  'nova-scheduler',
  'neutron-api',
  'rabbitmq-server',
  'mariadb-server',
] as const;
