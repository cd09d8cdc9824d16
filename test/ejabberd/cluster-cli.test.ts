/**
 * `cloudgate ejabberd start --cluster` and `--join`: two project-local servers on one
 * machine form a cluster as an operator would form one across two hosts (the second
 * takes the first's secrets from its directory; dotted node hosts, as real hosts have,
 * take Erlang long names); bad cluster options are usage errors
 * that name the problem.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { EjabberdServer, freePort } from '../../ejabberd/index.js';

const cli = fileURLToPath(new URL('../../agents/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cgt-cluster-cli-'));
chmodSync(dir, 0o711); // the servers run as their own user, which must reach their directories
const d1 = join(dir, 'node1');
const d2 = join(dir, 'node2');

after(async () => {
  for (const d of [d2, d1])
    if (existsSync(join(d, 'server.json')))
      await EjabberdServer.load(d)
        .stop()
        .catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

function cg(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
    });
  });
}

const ports = async () => ['--c2s-port', String(await freePort()), '--component-port', String(await freePort())];

test("a second server joins the first one's cluster with --join", { timeout: 240_000 }, async () => {
  const tag = randomBytes(3).toString('hex');
  const one = await cg([
    'ejabberd',
    'start',
    '--dir',
    d1,
    ...(await ports()),
    '--cluster',
    '--node-name',
    `cga${tag}`,
    '--node-host',
    '127.0.0.1',
  ]);
  assert.equal(one.code, 0, one.out);
  assert.match(one.out, new RegExp(`cluster cga${tag}@127\\.0\\.0\\.1$`, 'm'));
  const info1 = EjabberdServer.load(d1).info;

  const two = await cg([
    'ejabberd',
    'start',
    '--dir',
    d2,
    ...(await ports()),
    '--node-name',
    `cgb${tag}`,
    '--node-host',
    '127.0.0.1',
    '--share-from',
    d1,
    '--join',
    `${info1.node}:${info1.distPort}`,
  ]);
  assert.equal(two.code, 0, two.out);
  const nodes = [`cga${tag}@127.0.0.1`, `cgb${tag}@127.0.0.1`].sort();
  const listed = /cluster (.*)$/m.exec(two.out)?.[1].split(' ').sort();
  assert.deepEqual(listed, nodes, two.out);
  // The same cookie on both, still private to the server's user; never on a command line.
  assert.equal(readFileSync(join(d2, '.erlang.cookie'), 'utf8'), readFileSync(join(d1, '.erlang.cookie'), 'utf8'));
  assert.equal(statSync(join(d2, '.erlang.cookie')).mode & 0o777, 0o400);
  assert.ok(!two.out.includes(readFileSync(join(d1, '.erlang.cookie'), 'utf8')), 'the cookie is not printed');

  for (const d of [d1, d2]) {
    const st = await cg(['ejabberd', 'status', '--dir', d]);
    assert.equal(st.code, 0, st.out);
    assert.deepEqual((JSON.parse(st.out) as { cluster: string[] }).cluster.sort(), nodes);
  }
});

test('bad cluster options are usage errors naming the value', { timeout: 60_000 }, async () => {
  const d = join(dir, 'bad');
  for (const [args, why] of [
    [['--join', 'no node name'], /--join 'no node name': expected an Erlang node name name@host/],
    [['--join', 'a@localhost:70000'], /--join 'a@localhost:70000': port 70000 is not between 1 and 65535/],
    [['--peer', 'a@localhost'], /--peer 'a@localhost': give its distribution port/],
    [['--dist-port', 'x'], /--dist-port 'x': expected a port/],
    [['--node-name', '9x'], /--node-name '9x'/],
  ] as const) {
    const r = await cg(['ejabberd', 'start', '--dir', d, ...args]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, why);
    assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
  }
  const r = await cg(['ejabberd', 'start', '--dir', d, ...(await ports()), '--dist-ip', '10.0.0', '--cluster']);
  assert.notEqual(r.code, 0);
  assert.match(r.out, /distribution address '10\.0\.0': expected an IPv4 address/);
});
