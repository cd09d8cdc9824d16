/**
 * A shared local cloud (`[driver] shared = true`): open to everyone, so each instance runs
 * as an unprivileged user (nobody) and cannot read the cloud agent's configuration or keys,
 * against a real ejabberd with a real cloud agent (the test runs as root, so it can setuid).
 * The agent refuses to start while its configuration is readable by that user or the
 * user cannot enter state_dir, and the driver refuses root or an unknown user.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from '../helpers/ejabberd.js';
import { silent } from '../helpers/agents.js';
import { until } from '../helpers/wait.js';
import { ConfigError } from '../../core/index.js';
import { loadDriver } from '../../drivers/index.js';
import { createCloudAgent, loadCloudConfig, type CloudAgent } from '../../agents/cloud/index.js';
import { Gateway, startCloud, startServer, tempDir, writeConfig } from './helpers.js';

/** What the instance could read: each path's content or its error code. */
const PROBE = `
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
const read = (p) => { try { return readFileSync(p, 'utf8'); } catch (e) { return e.code; } };
const out = { uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), home: process.env.HOME,
  context: read(process.env.CLOUDGATE_CONTEXT_FILE), files: process.argv.slice(2).map(read) };
writeFileSync(process.env.CLOUDGATE_ROOT + '/probe.json.tmp', JSON.stringify(out));
renameSync(process.env.CLOUDGATE_ROOT + '/probe.json.tmp', process.env.CLOUDGATE_ROOT + '/probe.json');
setInterval(() => {}, 60_000);
`;

const isRoot = process.getuid?.() === 0;
const nobody = () => Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());

describe('shared local driver', { skip: !isRoot && 'needs root to start instances as another user' }, () => {
  let t: TestServer;
  let gw: Gateway;
  let ca: CloudAgent | undefined;
  const tmp = tempDir('shared');
  let file = '';
  let probe = '';

  before(async () => {
    t = await startServer();
    chmodSync(tmp.dir, 0o711);
    probe = join(tmp.dir, 'probe.mjs');
    writeFileSync(probe, PROBE, { mode: 0o644 });
    gw = await Gateway.start(t);
  });
  after(async () => {
    await gw?.agent.stop();
    if (ca) {
      for (const i of await ca.driver.describe()) await ca.driver.terminate(i.id);
      await ca.stop();
    }
    await t?.stop();
    tmp.remove();
  });

  const config = (driver: Record<string, string>) => {
    const keyFile = t.server.info.hostJwtKeyFiles['vms.localhost']!;
    return writeConfig(t, tmp.dir, {
      driver: 'local',
      acl: 'users = *',
      admins: `ops@${t.host}`,
      driverOptions: {
        state_dir: join(tmp.dir, 'state'),
        kill_grace_ms: '1000',
        shared: 'true',
        command: `${process.execPath} ${probe} ${join(tmp.dir, 'cloud.ini')} ${keyFile} ${t.server.info.jwtKeyFile}`,
        ...driver,
      },
    });
  };

  it("refuses to start while its configuration is readable by the instances' user", async () => {
    file = config({});
    chmodSync(file, 0o644);
    await assert.rejects(
      createCloudAgent(loadCloudConfig(file), { log: silent }),
      (e: Error) =>
        e instanceof ConfigError &&
        e.message.includes(file) &&
        /readable by "nobody"/.test(e.message) &&
        /chmod 600/.test(e.message),
    );
    chmodSync(file, 0o600);
  });

  it("refuses a state_dir the instances' user cannot enter", async () => {
    const closed = join(tmp.dir, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    chmodSync(closed, 0o700);
    const f = config({ state_dir: join(closed, 'state') });
    await assert.rejects(
      createCloudAgent(loadCloudConfig(f), { log: silent }),
      (e: Error) =>
        e instanceof ConfigError && /option "state_dir"/.test(e.message) && e.message.includes(`${closed} (mode 0700)`),
    );
  });

  it('refuses root or an unknown user as run_as, and run_as without shared', async () => {
    const open = async (o: Record<string, string>) =>
      (await loadDriver('local'))({ state_dir: join(tmp.dir, 'st2'), ...o }, { log: silent });
    await assert.rejects(
      open({ shared: 'true', run_as: 'root' }),
      /option "run_as" must be an unprivileged user, not "root"/,
    );
    await assert.rejects(
      open({ shared: 'true', run_as: 'no-such-user-x' }),
      /option "run_as" names no user in \/etc\/passwd: "no-such-user-x"/,
    );
    await assert.rejects(open({ run_as: 'nobody' }), /option "run_as" is used only with shared = true/);
  });

  it("runs an instance of anyone as nobody, unable to read the cloud agent's configuration and keys", async () => {
    file = config({});
    ({ ca } = await startCloud(file));
    const rid = await gw.allocate(ca.agent.bare, { owner: `bob@${t.host}`, names: ['s1'], deployment: 'dep-shared' });
    assert.deepEqual((await gw.result(rid)).accepted, ['s1']);
    const [inst] = await until('the instance', async () =>
      (await ca!.driver.describe()).filter((i) => i.name === 's1'),
    );
    const out = join(String(inst!.extra.dir), 'root', 'probe.json');
    await until('the probe to report', () => existsSync(out));
    const seen = JSON.parse(readFileSync(out, 'utf8')) as {
      uid: number;
      gid: number;
      groups: number[];
      home: string;
      context: string;
      files: string[];
    };
    assert.equal(seen.uid, nobody());
    assert.ok(!seen.groups.includes(0), `no supplementary root group: ${seen.groups.join(',')}`);
    assert.equal(seen.home, String(inst!.extra.dir));
    assert.match(seen.context, /\[cloudgate\]/, 'its own context is readable');
    assert.deepEqual(
      seen.files,
      ['EACCES', 'EACCES', 'EACCES'],
      'the cloud config, the instance key and the agent key are not',
    );
    assert.equal(inst!.extra.uid, nobody());
    await gw.stateIs(['s1'], 'running');
  });
});
