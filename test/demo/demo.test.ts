/**
 * `npm start` end to end: the demo as a child process on free ports in a temp dir, with
 * CLOUDGATE_DEMO_EXIT_WHEN_READY=1 so it stops everything and exits once the example
 * cluster is ready. Afterwards nothing it started may still run.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDriver } from '../../drivers/index.js';
import { silent } from '../helpers/agents.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = join(root, 'dist', 'agents', 'demo', 'main.js');

interface Run {
  code: number | null;
  out: string;
}

function demo(
  dir: string,
  env: Record<string, string>,
  timeoutMs: number,
  onOutput?: (out: string, stop: () => void) => void,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        CLOUDGATE_DEMO_DIR: dir,
        CLOUDGATE_DEMO_C2S_PORT: '0',
        CLOUDGATE_DEMO_COMPONENT_PORT: '0',
        CLOUDGATE_DEMO_HTTP_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      onOutput?.(out, () => child.kill('SIGINT'));
    });
    child.stderr.on('data', (b) => {
      out += b;
    });
    // Past the bound: ask it to stop (it cleans up), then insist.
    const t1 = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    const t2 = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 30_000);
    child.once('exit', (code) => {
      clearTimeout(t1);
      clearTimeout(t2);
      resolve({ code, out });
    });
  });
}

/** Logs in to the demo's HTTP API as the chat account and asks whoami (stdout: its JSON). */
async function httpWhoami(url: string | undefined, ca: string, password: string): Promise<CliRun> {
  if (!url) return { code: 1, stdout: 'no HTTP address in the summary', stderr: '' };
  const call = (method: string, path: string, body?: string, token?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpsRequest(
        `${url}${path}`,
        {
          method,
          ca,
          headers: {
            ...(body ? { 'content-type': 'application/json' } : {}),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const login = await call('POST', '/api/v1/login', JSON.stringify({ username: 'demo@localhost', password }));
  if (login.status !== 200) return { code: 1, stdout: login.text, stderr: '' };
  const who = await call(
    'GET',
    '/api/v1/whoami',
    undefined,
    (JSON.parse(login.text) as { access_token: string }).access_token,
  );
  return { code: who.status === 200 ? 0 : 1, stdout: who.text, stderr: '' };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function assertNothingLeft(dir: string): Promise<void> {
  const pids = JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as number[];
  for (const pid of pids) assert.ok(!alive(pid), `agent process ${pid} still runs`);
  assert.ok(!existsSync(join(dir, 'ejabberd', 'ejabberd.pid')), 'ejabberd was stopped');
  const stateDir = join(dir, 'cloud-a', 'instances');
  if (existsSync(stateDir)) {
    const driver = await openDriver('local', { state_dir: stateDir }, { log: silent });
    const left = (await driver.describe()).filter((i) => i.state !== 'terminated');
    assert.deepEqual(
      left.map((i) => i.name),
      [],
      'no instance still runs',
    );
  }
}

test('npm start: deploys the example cluster, reports progress until ready, stops everything', {
  timeout: 180_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-demo-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const r = await demo(dir, { CLOUDGATE_DEMO_EXIT_WHEN_READY: '1', CLOUDGATE_DEMO_READY_TIMEOUT: '100' }, 120_000);
  assert.equal(r.code, 0, r.out);
  for (const line of [
    'ejabberd is up',
    'uploaded context head',
    'uploaded cluster batch',
    'head 1/1 ready',
    'worker 3/3 ready',
    'cluster batch is ready after',
    'destroyed deployment',
    'stopped',
  ]) {
    assert.ok(r.out.includes(line), `output has '${line}':\n${r.out}`);
  }
  assert.match(r.out, /\[\s+\d+\.\ds\] worker 3\/3 ready/, 'progress carries the elapsed time');
  assert.match(r.out, /status d\S+ --config \S*client\.ini/, 'the summary shows how to use the CLI');
  assert.doesNotMatch(r.out, /eyJ[\w-]+\.[\w-]+\./, 'no JWT in the output');
  await assertNothingLeft(dir);
});

test('a demo that cannot finish prints the cause and the logs, stops everything, exits non-zero', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-demo-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // Ten milliseconds are too short for any instance to boot: the wait times out (exit 5).
  // (One second was, until the cluster came up in under a second.)
  const r = await demo(dir, { CLOUDGATE_DEMO_EXIT_WHEN_READY: '1', CLOUDGATE_DEMO_READY_TIMEOUT: '0.01' }, 90_000);
  assert.equal(r.code, 5, r.out);
  assert.match(r.out, /failed: deployment \S+ did not reach ready within \d+ s/);
  assert.match(r.out, /--- gateway log \(last lines of /);
  assert.match(r.out, /stopped\n$/);
  await assertNothingLeft(dir);
});

test('while it runs the CLI and the chat account work; Ctrl-C stops everything and exits 0', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-demo-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let checked: Promise<CliRun[]> | undefined;
  const r = await demo(dir, {}, 90_000, (out, stop) => {
    if (checked || !out.includes('Press Ctrl-C')) return;
    const client = join(dir, 'client.ini');
    checked = Promise.all([
      cli(['status', '--json', '--config', client], {}),
      // The chat account's password logs in too (as a person's chat client would).
      cli(['whoami', '--config', client], {
        CLOUDGATE_JWT_KEY: undefined,
        CLOUDGATE_PASSWORD: readFileSync(join(dir, 'chat-password'), 'utf8').trim(),
      }),
      // The HTTP API the summary names answers over HTTPS with the project-local certificate.
      httpWhoami(
        /HTTP: {2}(https:\/\/localhost:\d+)\/api\/v1/.exec(out)?.[1],
        readFileSync(join(dir, 'ejabberd', 'conf', 'server.crt'), 'utf8'),
        readFileSync(join(dir, 'chat-password'), 'utf8').trim(),
      ),
    ]).finally(stop);
  });
  assert.ok(checked, r.out);
  const [status, whoami, http] = await checked;
  assert.equal(http!.code, 0, http!.stdout);
  assert.match(http!.stdout, /"jid":"demo@localhost","admin":true/);
  assert.equal(status!.code, 0, status!.stderr);
  const [d] = JSON.parse(status!.stdout).deployments;
  assert.deepEqual(
    d.services.map((s: { name: string; ready: number }) => `${s.name} ${s.ready}`),
    ['head 1', 'worker 3'],
  );
  assert.equal(whoami!.code, 0, whoami!.stderr);
  assert.match(whoami!.stdout, /^demo@localhost \(gateway admin\)/);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /SIGINT, stopping everything/);
  assert.match(r.out, /destroyed deployment \S+: 4 instance\(s\) terminated/);
  assert.match(r.out, /stopped\n$/);
  await assertNothingLeft(dir);
});

/** The CLI with only a client file: no password or key from this process's environment. */
interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLOUDGATE_')));
    execFile(
      process.execPath,
      [join(root, 'dist', 'agents', 'cli.js'), ...args],
      { env: { ...clean, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}
