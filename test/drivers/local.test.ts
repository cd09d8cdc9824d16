import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CloudError, loadDriver, type CloudDriver, type Instance } from '../../drivers/index.js';
import { ConfigError } from '../../core/errors.js';
import { alive, guestCommand, type Seen } from '../helpers/guest.js';
import { silentLogger } from '../helpers/log.js';
import { driverContract, eventually } from './contract.js';

const base = mkdtempSync(join(tmpdir(), 'cg-local-'));
after(() => rmSync(base, { recursive: true, force: true }));

async function make(options: Record<string, string>): Promise<CloudDriver> {
  return (await loadDriver('local'))(options, { log: silentLogger() });
}

function seen(inst: Instance): Promise<Seen> {
  const file = join(String(inst.extra.dir), 'root', 'seen.json');
  return eventually(
    'the guest to record what it saw',
    async () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Seen) : undefined),
    10_000,
  );
}

const req = (name: string) => ({
  name,
  flavorId: 'small',
  imageId: 'local',
  userData: '[amiconfig]\n',
  tags: { deployment: 'd', service: 's', owner: 'o' },
});

const contractDir = join(base, 'contract');
driverContract('local', () => make({ state_dir: contractDir, command: guestCommand(base), kill_grace_ms: '1000' }), {
  features: ['userdata', 'tags', 'capacity', 'flavors', 'images', 'runs-agent'],
  unknownId: 'local-000000000000',
  persistent: true,
  readUserData: async (inst) => (await seen(inst)).context ?? '',
});

describe('local driver', () => {
  let n = 0;
  const dirs = () => {
    const d = join(base, `t${++n}`);
    return { state_dir: d };
  };
  const drivers: CloudDriver[] = [];
  const open = async (o: Record<string, string>) => {
    const d = await make(o);
    drivers.push(d);
    return d;
  };
  after(async () => {
    for (const d of drivers) {
      for (const i of await d.describe()) await d.terminate(i.id);
      await d.close();
    }
  });

  it('validates options and names the key', async () => {
    await assert.rejects(make({}), (e: Error) => e instanceof ConfigError && /"state_dir"/.test(e.message));
    await assert.rejects(make({ ...dirs(), max_instances: 'lots' }), /"max_instances".*lots/);
    await assert.rejects(make({ ...dirs(), command: 'no-such-program-xyz --flag' }), /"command"/);
    await assert.rejects(make({ ...dirs(), 'flavor.tiny': 'one 512' }), /"flavor\.tiny"/);
    await assert.rejects(make({ ...dirs(), kill_grace_ms: '-1' }), /"kill_grace_ms"/);
    const d = await open({ ...dirs(), 'flavor.tiny': '1 128', images: 'a b' });
    assert.deepEqual(
      (await d.listFlavors()).map((f) => f.id),
      ['tiny'],
    );
    assert.deepEqual(
      (await d.listImages()).map((i) => i.id),
      ['a', 'b'],
    );
  });

  it('runs the instance with its context file (0600), instance id and own root, in its own process group', async () => {
    const d = await open({ ...dirs(), command: guestCommand(base) });
    process.env.AWS_SECRET_ACCESS_KEY = 'parent-secret';
    let inst: Instance;
    try {
      inst = await d.create({ ...req('env'), userData: 'ctx-body' });
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
    const s = await seen(inst);
    assert.equal(s.context, 'ctx-body');
    assert.equal(s.instanceId, inst.id);
    assert.equal(s.contextFile, join(String(inst.extra.dir), 'user-data'));
    assert.equal(s.root, join(String(inst.extra.dir), 'root'));
    assert.equal(s.configDrive, null);
    assert.equal(s.leakedSecret, null, 'credentials of the parent are not passed on');
    assert.equal(statSync(s.contextFile!).mode & 0o777, 0o600);
    assert.equal(s.pgid, inst.extra.pid, 'the wrapper leads a process group of its own');
    const rec = JSON.parse(readFileSync(join(String(inst.extra.dir), 'instance.json'), 'utf8'));
    for (const k of ['id', 'name', 'tags', 'flavor', 'image', 'pid', 'pidStartTime', 'createdAt', 'terminateRequested'])
      assert.ok(k in rec, k);
    await d.terminate(inst.id);
    assert.equal(alive(s.pid), false);
    assert.equal(existsSync(s.contextFile!), false, 'the context is removed after termination');
  });

  it('reports exit 0 as terminated and other exits as error with the exit code', async () => {
    const ok = await open({ ...dirs(), command: guestCommand(base, 'exit0') });
    const a = await ok.create(req('exits-0'));
    const endA = await eventually(
      'exit',
      async () => {
        const [i] = await ok.describe([a.id]);
        return i?.state === 'running' ? undefined : i;
      },
      10_000,
    );
    assert.equal(endA.state, 'terminated');
    assert.equal(endA.extra.exitCode, 0);
    const bad = await open({ ...dirs(), command: guestCommand(base, 'exit3') });
    const b = await bad.create(req('exits-3'));
    const endB = await eventually(
      'exit',
      async () => {
        const [i] = await bad.describe([b.id]);
        return i?.state === 'running' ? undefined : i;
      },
      10_000,
    );
    assert.equal(endB.state, 'error');
    assert.equal(endB.extra.exitCode, 3);
    // An errored instance still holds its name until terminated.
    assert.equal((await bad.create(req('exits-3'))).id, b.id);
  });

  it('escalates to SIGKILL after kill_grace_ms when SIGTERM is ignored', async () => {
    const d = await open({ ...dirs(), command: guestCommand(base, 'stubborn'), kill_grace_ms: '300' });
    const inst = await d.create(req('stubborn'));
    const s = await seen(inst);
    const t0 = Date.now();
    await d.terminate(inst.id);
    assert.ok(Date.now() - t0 >= 250, 'waited for the grace period');
    assert.equal(alive(s.pid), false);
    assert.equal((await d.describe([inst.id]))[0]?.state, 'terminated');
  });

  it('keeps instances running across a kill -9 of the agent; a new driver terminates them', async () => {
    const o = { ...dirs(), command: guestCommand(base) };
    // The "cloud agent": a separate Node process that creates an instance and is then killed.
    const code = `
      const { loadDriver } = await import(${JSON.stringify(new URL('../../drivers/index.js', import.meta.url).href)});
      const { pino } = await import('pino');
      const d = await (await loadDriver('local'))(${JSON.stringify(o)}, { log: pino({ level: 'silent' }) });
      const i = await d.create(${JSON.stringify(req('orphan'))});
      console.log(i.id);
      setInterval(() => {}, 60000);`;
    const agent = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: process.cwd(),
    });
    const id = await new Promise<string>((resolve, reject) => {
      agent.stdout!.once('data', (b) => resolve(String(b).trim()));
      agent.once('exit', (c) => reject(new Error(`agent exited ${c}`)));
    });
    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('exit', r));
    const d = await open(o);
    const [inst] = await d.describe([id]);
    assert.equal(inst?.state, 'running');
    const s = await seen(inst!);
    await d.terminate(id);
    assert.equal(alive(s.pid), false);
    assert.equal((await d.describe([id]))[0]?.state, 'terminated');
  });

  it('does not trust a reused pid: a record pointing at another process is not signalled', async () => {
    const o = { ...dirs(), command: guestCommand(base) };
    const d = await open(o);
    const inst = await d.create(req('reuse'));
    await d.terminate(inst.id);
    // Forge the record: our own pid, a start time that is not ours, as after pid reuse.
    const file = join(String(inst.extra.dir), 'instance.json');
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    Object.assign(rec, { pid: process.pid, pidStartTime: '1', terminateRequested: false, terminatedAt: undefined });
    writeFileSync(file, JSON.stringify(rec));
    const [i] = await d.describe([inst.id]);
    assert.equal(i?.state, 'error');
    await d.terminate(inst.id); // would SIGTERM this very test process if the start time were ignored
    assert.ok(alive(process.pid));
  });

  it('accounts capacity and refuses past max_instances', async () => {
    const d = await open({ ...dirs(), command: guestCommand(base), max_instances: '1', cores: '3', memory_mb: '1000' });
    assert.deepEqual(await d.capacity!(), { instances: 1, cores: 3, memoryMb: 1000 });
    const a = await d.create(req('cap-a'));
    assert.deepEqual(await d.capacity!(), { instances: 0, cores: 2, memoryMb: 488 });
    await assert.rejects(d.create(req('cap-b')), (e: Error) => e instanceof CloudError && e.kind === 'quota');
    await d.terminate(a.id);
    assert.deepEqual(await d.capacity!(), { instances: 1, cores: 3, memoryMb: 1000 });
    await assert.rejects(
      d.create({ ...req('cap-c'), flavorId: 'large' }),
      (e: Error) => e instanceof CloudError && e.kind === 'capacity',
    );
  });

  it('rejects bad requests and never turns an id into a path', async () => {
    const d = await open({ ...dirs(), command: guestCommand(base) });
    await assert.rejects(d.create(req('../evil')), (e: Error) => e instanceof CloudError && e.kind === 'invalid');
    await assert.rejects(d.create({ ...req('x'), flavorId: 'huge' }), /unknown flavor "huge"/);
    await assert.rejects(d.create({ ...req('x'), imageId: 'win' }), /unknown image "win"/);
    const victim = join(base, 'victim');
    mkdirSync(join(victim, 'root'), { recursive: true });
    writeFileSync(join(victim, 'instance.json'), '{"id":"../victim","pid":1,"name":"v"}');
    assert.deepEqual(await d.describe(['..', '../victim', '/etc']), []);
    await d.terminate('../victim');
    assert.ok(existsSync(join(victim, 'root')), 'nothing outside state_dir was touched');
  });

  it('serializes concurrent creates of one name into one instance', async () => {
    const d = await open({ ...dirs(), command: guestCommand(base) });
    const got = await Promise.all([d.create(req('twin')), d.create(req('twin')), d.create(req('twin'))]);
    assert.equal(new Set(got.map((i) => i.id)).size, 1);
  });
});
