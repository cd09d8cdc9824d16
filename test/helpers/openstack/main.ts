/**
 * Starts the run's shared test cloud: `node main.js <state.json>`. The state file tells
 * waiting tests when it is ready or why it failed. The cloud is stopped and removed when
 * stdin closes (the test runner ended, or died) or on SIGTERM/SIGINT.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OpenStackCloud } from './cloud.js';
import type { CloudState } from './shared.js';

const stateFile = process.argv[2];
if (!stateFile) {
  console.error('usage: main.js <state.json>');
  process.exit(2);
}

function write(state: CloudState): void {
  const tmp = `${stateFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  renameSync(tmp, stateFile!);
}

write({ status: 'starting', pid: process.pid });
// The runner's directory is private (0700): the cloud's mysql and rabbitmq users must be
// able to pass through it to theirs, without listing it (the state file stays 0600).
chmodSync(dirname(stateFile), 0o711);
const dir = join(dirname(stateFile), 'cloud');
mkdirSync(dir, { recursive: true });
let cloud: OpenStackCloud | undefined;
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await cloud?.stop().catch(() => undefined);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();

const t0 = Date.now();
OpenStackCloud.start({ dir }).then(
  (c) => {
    cloud = c;
    if (stopping) return void c.stop();
    write({ status: 'ready', info: c.info });
    console.error(`OpenStack test cloud ready in ${Math.round((Date.now() - t0) / 1000)} s`);
  },
  (err: Error) => {
    write({ status: 'failed', reason: err.message.split('\n')[0]! });
    console.error(`OpenStack test cloud could not start: ${err.message.split('\n')[0]}`);
  },
);
