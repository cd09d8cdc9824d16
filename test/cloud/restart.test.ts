/**
 * Restart mid-request: a cloud agent process is killed (SIGKILL) while it creates the
 * instances of an allocation — one created and recorded, one created in the cloud but not
 * yet recorded, one not created — and a new agent on the same database and state ends
 * with exactly the instances requested, each once, and answers the request.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from '../helpers/ejabberd.js';
import { guestCommand } from '../helpers/guest.js';
import { cloud } from '../../protocols/index.js';
import { run } from '../../agents/cloud/index.js';
import type { RunningAgent } from '../../core/run.js';
import { openDriver, type CloudDriver } from '../../drivers/index.js';
import { silentLogger } from '../helpers/log.js';
import { eventually, Gateway, jwkSecret, startServer, tempDir, writeConfig, INSTANCE_DOMAIN } from './helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

describe('cloud agent restart', () => {
  let t: TestServer;
  let gw: Gateway;
  let running: RunningAgent | undefined;
  let view: CloudDriver | undefined;
  const tmp = tempDir('restart');
  const stateDir = join(tmp.dir, 'state');

  before(async () => {
    t = await startServer();
    gw = await Gateway.start(t);
  });
  after(async () => {
    await gw?.agent.stop();
    await running?.stop();
    if (view) {
      for (const i of await view.describe()) await view.terminate(i.id);
      await view.close();
    }
    await t?.stop();
    tmp.remove();
  });

  it('a kill mid-request ends with exactly the requested instances', async () => {
    const file = writeConfig(t, tmp.dir, {
      driver: 'local',
      driverOptions: { state_dir: stateDir, command: guestCommand(tmp.dir), kill_grace_ms: '1000' },
      extra: '[image.cernvm-4]\nid = local\n',
      logFile: join(tmp.dir, 'second.log'),
      // One create at a time pins the interleaving this test is about; creates under way in
      // parallel when the agent dies are the faults suite's (kill -9 of the cloud agent).
      createConcurrency: 1,
    });
    // An independent view of the cloud, as an operator's tool would have.
    view = await openDriver('local', { state_dir: stateDir }, { log: silentLogger() });
    const childLog = join(tmp.dir, 'child.log');
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, CG_CLOUD_CONFIG: file, CG_HOLD_AFTER: '1', CG_CLOUD_LOG: childLog },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += String(d);
      });
      await eventually('the first cloud agent to start', () => (out.includes('ready') ? true : undefined), 15_000);
      const names = ['r1', 'r2', 'r3'];
      const _rid = await gw.allocate(`cloud-a@${t.host}`, { names, deployment: 'dep-r' });
      await gw.stateIs(['r1'], 'running');
      await eventually('the second instance to exist in the cloud', () =>
        out.includes('holding r2') ? true : undefined,
      );
      assert.equal(gw.lastState('r2'), undefined, 'r2 was not reported: the agent never learned it exists');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    // The second agent starts the way the command line starts it.
    running = await run(file);
    const names = ['r1', 'r2', 'r3'];
    await gw.stateIs(names, 'running');
    const res = await gw.until('the allocate result', () => gw.results.find((r) => r.deployment === 'dep-r'));
    assert.deepEqual(res.accepted.sort(), names);
    // A few more polls: nothing is created late.
    await new Promise((r) => setTimeout(r, 800));
    const live = (await view.describe()).filter((i) => i.state !== 'terminated');
    assert.deepEqual(live.map((i) => i.name).sort(), names, 'each name exactly once');
    assert.equal(readdirSync(stateDir).filter((d) => d.startsWith('local-')).length, 3);
    const listed = await gw.agent.request(cloud.ListInstances, running.agent.jid, {
      deployment: 'dep-r',
      owner: undefined,
    });
    assert.deepEqual(
      listed.instances.map((i) => `${i.name}:${i.state}:${i.id}`).sort(),
      live.map((i) => `${i.name}:running:${i.id}`).sort(),
    );

    await gw.agent.sendReliable(cloud.Terminate, running.agent.jid, {
      request_id: 'end',
      deployment: 'dep-r',
      owner: `alice@${t.host}`,
      names: [],
    });
    await gw.stateIs(names, 'terminated');
    // Both agents logged through the production logger into files: no key there either.
    await running.stop();
    running = undefined;
    await new Promise((r) => setTimeout(r, 200)); // pino's file destination writes asynchronously
    const logs = [childLog, join(tmp.dir, 'second.log')].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : ''));
    assert.match(logs[0]!, /allocate recorded/);
    assert.match(logs[1]!, /allocation answered/);
    for (const k of [jwkSecret(t.server.info.jwtKeyFile), jwkSecret(t.server.info.hostJwtKeyFiles[INSTANCE_DOMAIN]!)]) {
      assert.ok(!logs.some((l) => l.includes(k)), 'a JWT key reached a log file');
    }
  });
});
