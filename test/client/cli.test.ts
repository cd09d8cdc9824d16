import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';
import { makeAgent } from '../helpers/agents.js';
import type { Agent } from '../../core/index.js';
import { standInGateway, type StandIn } from './stand-in.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cliJs = join(root, 'dist', 'agents', 'cli.js');
const example = join(root, 'examples', 'cluster.ini');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a child process (asynchronously: the stand-in gateway lives in this process). */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliJs, ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe('cloudgate client commands (child processes) against a stand-in gateway', () => {
  let t: TestServer;
  let gwAgent: Agent;
  let standIn: StandIn;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    t = await startEjabberd({}, { cleanup: false });
    gwAgent = await makeAgent(t, 'gateway', { kind: 'gateway', resource: 'main' });
    standIn = standInGateway(gwAgent, { users: { [`ada@${t.host}`]: { admin: true } }, stepMs: 60 });
    await gwAgent.start();
    dir = mkdtempSync(join(tmpdir(), 'cgt-cli-'));
    env = {
      CLOUDGATE_SERVER: t.service.replace('xmpp://', ''),
      CLOUDGATE_JID: `ada@${t.host}`,
      CLOUDGATE_JWT_KEY: t.server.info.jwtKeyFile,
      CLOUDGATE_CA: t.server.info.certFile,
      XDG_CONFIG_HOME: dir, // no stray client.ini from the machine running the tests
    };
  });
  after(async () => {
    standIn?.stop();
    await gwAgent?.stop();
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('--json prints exactly one JSON document; whoami, cluster put, clusters', async () => {
    const w = await cli(['whoami', '--json'], env);
    assert.equal(w.code, 0, w.stderr);
    assert.deepEqual(JSON.parse(w.stdout), { jid: `ada@${t.host}`, admin: true, groups: [] });
    const put = await cli(['cluster', 'put', example, '--json'], env);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(JSON.parse(put.stdout).cluster.name, 'batch');
    const list = await cli(['clusters'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+OWNER\s+SERVICES\nbatch\s+ada@\S+\s+head worker$/m);
  });

  test('deploy --wait --json: ready, one document, progress only off stdout', async () => {
    const r = await cli(['deploy', 'batch', '--count', 'worker=2', '--wait', '--json', '--timeout', '20'], env);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(
      doc.deployment.services.map((s: { ready: number }) => s.ready),
      [1, 2],
    );
    const st = await cli(['status', doc.deployment.id, '--json'], env);
    assert.equal(JSON.parse(st.stdout).deployment.id, doc.deployment.id);
    const gone = await cli(['destroy', doc.deployment.id, '--wait', '--json'], env);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(JSON.parse(gone.stdout).deployment.state, 'aborted');
  });

  test('deploy --wait without a terminal: one progress line per change on stderr', async () => {
    const r = await cli(['deploy', 'batch', '--wait'], env);
    assert.equal(r.code, 0, r.stderr);
    for (const line of ['head 0/1 ready', 'head 1/1 ready', 'worker 3/3 ready'])
      assert.match(r.stderr, new RegExp(`\\]\\s${line}`), line);
    assert.match(r.stderr, /\[\s+\d+\.\ds\] placement: placed 4 instances/);
    assert.match(r.stdout, /^deployment d\d+ ready \(head 1\/1, worker 3\/3\)$/m);
  });

  test('exit codes: failed 1, usage 2, refused 3, not found 4, unreachable 5', async () => {
    const bad = join(dir, 'doomed.ini');
    writeFileSync(bad, readFileSync(example, 'utf8').replace('name = batch', 'name = doomed'));
    assert.equal((await cli(['cluster', 'put', bad], env)).code, 0);
    const failed = await cli(['deploy', 'doomed', '--wait', '--json'], env);
    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(JSON.parse(failed.stdout).deployment.state, 'failed');
    assert.match(failed.stderr, /deployment d\d+ failed/);

    assert.equal((await cli(['deploy'], env)).code, 2, 'missing argument');
    assert.equal((await cli(['deploy', 'batch', '--count', 'worker=lots'], env)).code, 2, 'bad --count');
    assert.equal((await cli(['whoami'], { ...env, CLOUDGATE_JID: undefined })).code, 2, 'no jid');
    assert.equal((await cli(['whoami', '--config', join(dir, 'missing.ini')], env)).code, 2, 'missing config');

    const refused = await cli(['deploy', 'quota-batch', '--json'], env);
    assert.equal(refused.code, 3);
    assert.deepEqual(JSON.parse(refused.stdout).error, {
      code: 'CG_STANZA_QUOTA_EXCEEDED',
      message: 'quota exceeded: 0 instances left',
      condition: 'resource-constraint',
      app: 'quota-exceeded',
      exit: 3,
    });
    assert.equal(
      (await cli(['whoami'], { ...env, CLOUDGATE_JWT_KEY: undefined, CLOUDGATE_PASSWORD: 'wrong' })).code,
      3,
      'login refused',
    );

    const missing = await cli(['status', 'd999'], env);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /no deployment 'd999' \(item-not-found, not-found\)/);

    const away = await cli(['whoami', '--gateway', `nobody@${t.host}`, '--connect-timeout', '0.5'], env);
    assert.equal(away.code, 5);
    assert.match(away.stderr, /gateway nobody@\S+ is not online/);
    const noServer = await cli(['whoami', '--server', '127.0.0.1:1'], env);
    assert.equal(noServer.code, 5, noServer.stderr);
    assert.match(noServer.stderr, /cannot log in to xmpp:\/\/127\.0\.0\.1:1/);
  });

  test('client INI file: [xmpp] and [gateway] sections, relative paths next to the file', async () => {
    const conf = join(dir, 'cloudgate');
    mkdirSync(conf, { recursive: true });
    copyFileSync(t.server.info.jwtKeyFile, join(conf, 'ada.jwk'));
    copyFileSync(t.server.info.certFile, join(conf, 'ca.pem'));
    const ini = join(conf, 'client.ini');
    writeFileSync(
      ini,
      `[xmpp]\njid = ada@${t.host}\nserver = ${t.service.replace('xmpp://', '')}\njwt_key = ada.jwk\nca = ca.pem\n[gateway]\njid = gateway@${t.host}\n`,
    );
    const r = await cli(['clouds', '--config', ini], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+DRIVER\s+ONLINE\s+INSTANCES\s+FREE\s+JID\ncloud-a\s+local\s+yes\s+4\s+16\s/);
    // $XDG_CONFIG_HOME/cloudgate/client.ini is read when no --config is given.
    const d = await cli(['whoami', '--json'], { XDG_CONFIG_HOME: dir });
    assert.equal(d.code, 0, d.stderr);
    const typo = join(dir, 'typo.ini');
    writeFileSync(typo, '[xmpp]\njdi = x@y\n');
    const bad = await cli(['whoami', '--config', typo], {});
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /typo\.ini:2 \[xmpp\] jdi: unknown key/);
  });

  test('contexts from files, with a passphrase from the environment', async () => {
    const ctxFile = join(root, 'examples', 'head.context.ini');
    const put = await cli(['context', 'put', 'head', ctxFile, '--public', '--json'], env);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(JSON.parse(put.stdout).context.visibility, 'public');
    const sec = await cli(['context', 'put', 'sealed', ctxFile, '--passphrase-env', 'PP'], {
      ...env,
      PP: 'open sesame',
    });
    assert.equal(sec.code, 0, sec.stderr);
    assert.match(sec.stdout, /context sealed version 1 \(private, encrypted\)/);
    assert.equal((await cli(['context', 'get', 'sealed'], env)).code, 3, 'no passphrase');
    const got = await cli(['context', 'get', 'sealed', '--passphrase-env', 'PP'], { ...env, PP: 'open sesame' });
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /\[amiconfig\]/);
    assert.equal((await cli(['context', 'put', 'x', ctxFile, '--passphrase-env', 'UNSET'], env)).code, 2);
    const list = await cli(['contexts'], env);
    assert.match(list.stdout, /^head\s+1\s+public\s+no\s/m);
    const pair = await cli(['pair', 'head', '--ttl', '60'], env);
    assert.match(pair.stdout, /^pairing code for head: [0-9a-f]{12} \(single use, expires \d{4}-/);
  });
});
