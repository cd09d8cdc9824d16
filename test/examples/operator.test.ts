/**
 * The README's "running the parts yourself", as an operator types it: `ejabberd start
 * --jwt-host`, the example gateway and cloud files copied beside var/, an account for each
 * (`ejabberd account`), both agents started from them; the cloud comes online at the
 * gateway for its admin. Ports are free ones instead of the examples' 15222.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EjabberdServer, freePort } from '../../ejabberd/index.js';
import { GatewayClient } from '../../agents/gateway/client.js';
import { spawnAgent, type AgentProcess } from '../../agents/demo/processes.js';
import { editIniFile } from '../helpers/ini.js';
import { watchOver } from '../helpers/watchdog.js';
import { silent } from '../helpers/agents.js';
import { until } from '../helpers/wait.js';
import { assertCloudAgentScoped, assertNoOperatorKey, readIni } from '../helpers/credentials.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist', 'agents', 'cli.js');

function cg(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
    });
  });
}

test('the examples run with their own accounts on a server whose main host takes passwords only', {
  timeout: 240_000,
}, async () => {
  const top = mkdtempSync(join(tmpdir(), 'cgt-operator-'));
  chmodSync(top, 0o711); // ejabberd runs as its own user and must reach its directory
  watchOver(top, { remove: true });
  const v = join(top, 'var');
  mkdirSync(v, { mode: 0o711 });
  const serverDir = join(v, 'ejabberd');
  const [c2s, comp] = [await freePort(), await freePort()];
  const agents: AgentProcess[] = [];
  after(async () => {
    for (const a of agents.reverse()) await a.stop(5000);
    await EjabberdServer.load(serverDir)
      .stop()
      .catch(() => {});
  });

  const started = await cg([
    'ejabberd',
    'start',
    '--dir',
    serverDir,
    '--c2s-port',
    String(c2s),
    '--component-port',
    String(comp),
    '--jwt-host',
    'vms.localhost',
    '--agent',
    'gateway@localhost',
    '--agent',
    'cloud-local@localhost',
  ]);
  assert.equal(started.code, 0, started.out);
  assert.match(started.out, /vms\.localhost JWT key \S+jwt-vms\.localhost\.jwk/);
  assert.match(started.out, /localhost takes passwords only/);
  assert.doesNotMatch(started.out, /jwt\.jwk/);

  const server = `127.0.0.1:${c2s}`;
  const files = { gateway: join(v, 'gateway.ini'), cloud: join(v, 'cloud-local.ini'), admin: join(v, 'admin.ini') };
  copyFileSync(join(root, 'examples', 'gateway.ini'), files.gateway);
  copyFileSync(join(root, 'examples', 'cloud-local.ini'), files.cloud);
  for (const f of [files.gateway, files.cloud]) {
    const x = readIni(f).xmpp!;
    assert.deepEqual(
      [x.jwt_key, x.password, x.token],
      [undefined, undefined, undefined],
      `${f}: the example logs in with the account it is given`,
    );
  }
  editIniFile(files.gateway, { xmpp: { server }, log: { level: 'warn' }, gateway: { tick: '200ms' } });
  editIniFile(files.cloud, {
    xmpp: { server },
    log: { level: 'warn' },
    cloud: { poll_interval: '1s' },
    instances: { server },
  });
  writeFileSync(files.admin, `[xmpp]\njid = admin@localhost\nserver = ${server}\nca = ejabberd/conf/server.pem\n`);
  for (const f of Object.values(files)) {
    const r = await cg(['ejabberd', 'account', '--dir', serverDir, '--config', f]);
    assert.equal(r.code, 0, r.out);
  }
  const info = EjabberdServer.load(serverDir).info;
  assertNoOperatorKey(
    info,
    readdirSync(v)
      .filter((f) => f.endsWith('.ini'))
      .map((f) => join(v, f)),
  );
  await assertCloudAgentScoped(info, files.cloud, ['gateway@localhost', 'admin@localhost', 'alice@localhost']);

  for (const [name, kind, file] of [
    ['gateway', 'gateway', files.gateway],
    ['cloud-local', 'cloud', files.cloud],
  ] as const) {
    agents.push(spawnAgent(name, [process.execPath, cli, 'agent', kind, '--config', file], join(v, `${name}.log`)));
  }
  const admin = readIni(files.admin).xmpp!;
  const gw = await until(
    'the gateway answers its admin',
    async () => {
      for (const a of agents) assert.ok(a.running, `${a.name} exited: ${a.logTail(10)}`);
      return GatewayClient.connect({
        server,
        jid: admin.jid!,
        password: admin.password!,
        ca: readFileSync(info.certFile, 'utf8'),
        gateway: 'gateway@localhost',
        gatewayTimeoutMs: 2000,
        log: silent,
      });
    },
    60_000,
    500,
  );
  after(() => gw.close());
  await until(
    'cloud local online at the gateway',
    async () => (await gw.clouds()).find((c) => c.name === 'local' && c.online),
    60_000,
    300,
  );
  assert.match((await gw.whoami()).jid, /^admin@localhost/);
});
