// Runs every compiled test file with node:test. Integration tests start their own
// ejabberd on free ports, so files may run two at a time on a 2-core machine.
//
// Files named *openstack* share one OpenStack test cloud (about a minute to start): when
// the run has any, it is started here in the background while the other files run, and
// stopped when the run ends (test/helpers/openstack/).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function find(dir, out = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) find(p, out);
    else if (p.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = find('dist/test')
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const env = { ...process.env };
let cloud;
let cloudDir;
if (files.some((f) => /openstack/i.test(f)) && !env.CLOUDGATE_OPENSTACK_STATE) {
  cloudDir = mkdtempSync(join(tmpdir(), 'cgt-openstack-'));
  env.CLOUDGATE_OPENSTACK_STATE = join(cloudDir, 'state.json');
  // Its stdin is its lifeline: when this runner ends (or dies), the cloud stops.
  cloud = spawn(process.execPath, ['dist/test/helpers/openstack/main.js', env.CLOUDGATE_OPENSTACK_STATE], {
    stdio: ['pipe', 'inherit', 'inherit'],
  });
}

const tests = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env,
});
const status = await new Promise((resolve) => tests.on('exit', (code) => resolve(code ?? 1)));
if (cloud) {
  const gone = new Promise((resolve) => cloud.on('exit', resolve));
  cloud.stdin.end();
  await gone;
  rmSync(cloudDir, { recursive: true, force: true });
}
process.exit(status);
