/**
 * The one contract every driver passes (after libcloud's test/compute/__init__.py). Each
 * driver's test file calls driverContract() with a factory for a fresh driver object on
 * its backend; tests run in order and share the instance they create.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { INSTANCE_STATES, type CloudDriver, type DriverFeature, type Instance } from '../../drivers/index.js';

const ALL_FEATURES: readonly DriverFeature[] = ['userdata', 'tags', 'capacity', 'flavors', 'images', 'runs-agent'];

export interface ContractOptions {
  /** Exact feature set the driver must declare with this configuration. */
  features: readonly DriverFeature[];
  /** An id in the driver's format that names no instance. */
  unknownId: string;
  /**
   * true when a new driver object on the same backend must see earlier instances;
   * otherwise the reason why that cannot hold, and the test is skipped with it.
   */
  persistent: true | string;
  /** How a guest would read its user-data, to check create() delivered it. */
  readUserData?: (inst: Instance) => Promise<string>;
  timeoutMs?: number;
}

export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last !== undefined) return last;
    if (Date.now() > end) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function driverContract(name: string, makeDriver: () => Promise<CloudDriver>, opts: ContractOptions): void {
  const timeout = opts.timeoutMs ?? 10_000;
  describe(`driver contract: ${name}`, () => {
    let driver: CloudDriver;
    const extraDrivers: CloudDriver[] = [];
    const created = new Set<string>();
    const instName = `cg-contract-${randomBytes(4).toString('hex')}`;
    const userData = '# preamble line\n[amiconfig]\nplugins=cernvm\n\n[cernvm]\norganisations=ünïcode ✓\n';
    const tags = { deployment: 'dep-1', service: 'web', owner: 'alice@example.org' };
    let first: Instance;

    before(async () => {
      driver = await makeDriver();
    });

    after(async () => {
      // Best effort, so a failed test never leaves instances or processes behind.
      for (const id of created) await driver.terminate(id).catch(() => undefined);
      for (const d of [driver, ...extraDrivers]) await d?.close().catch(() => undefined);
    });

    it('declares exactly the expected features, from the known set', () => {
      for (const f of driver.features) assert.ok(ALL_FEATURES.includes(f), `unknown feature ${f}`);
      assert.deepEqual([...driver.features].sort(), [...opts.features].sort());
      assert.equal(typeof driver.capacity === 'function', driver.features.has('capacity'));
    });

    it('lists flavors and images', async () => {
      const flavors = await driver.listFlavors();
      assert.ok(flavors.length > 0);
      for (const f of flavors) assert.ok(f.id && f.cores > 0 && f.memoryMb > 0, `bad flavor ${JSON.stringify(f)}`);
      const images = await driver.listImages();
      assert.ok(images.length > 0);
      for (const i of images) assert.ok(i.id && i.name);
    });

    it('creates an instance that describe() shows with its tags, eventually running', async () => {
      const [flavor] = await driver.listFlavors();
      const [image] = await driver.listImages();
      first = await driver.create({ name: instName, flavorId: flavor!.id, imageId: image!.id, userData, tags });
      created.add(first.id);
      assert.equal(first.name, instName);
      assert.ok(INSTANCE_STATES.includes(first.state));
      const [seen] = await driver.describe([first.id]);
      assert.ok(seen, 'describe([id]) returns the new instance');
      assert.equal(seen.name, instName);
      assert.equal(seen.flavorId, flavor!.id);
      assert.equal(seen.imageId, image!.id);
      assert.deepEqual({ deployment: seen.tags.deployment, service: seen.tags.service, owner: seen.tags.owner }, tags);
      assert.ok(INSTANCE_STATES.includes(seen.state), `state ${seen.state}`);
      assert.equal(typeof seen.providerState, 'string');
      assert.ok(
        (await driver.describe()).some((i) => i.id === first.id),
        'describe() lists it',
      );
      await eventually(
        'running',
        async () => ((await driver.describe([first.id]))[0]?.state === 'running' ? true : undefined),
        timeout,
      );
    });

    it('delivers the user-data', { skip: opts.readUserData ? false : 'no way to read user-data back' }, async () => {
      assert.equal(await opts.readUserData!(first), userData);
    });

    it('create() with the same name returns the same instance', async () => {
      const again = await driver.create({
        name: instName,
        flavorId: first.flavorId!,
        imageId: first.imageId!,
        userData,
        tags,
      });
      assert.equal(again.id, first.id);
      const named = (await driver.describe()).filter((i) => i.name === instName && i.state !== 'terminated');
      assert.equal(named.length, 1);
    });

    it('describe(ids) omits unknown ids', async () => {
      const got = await driver.describe([first.id, opts.unknownId, 'no-such-instance']);
      assert.deepEqual(
        got.map((i) => i.id),
        [first.id],
      );
      assert.deepEqual(await driver.describe([]), []);
    });

    it('capacity() reports non-negative numbers', {
      skip: !opts.features.includes('capacity') && 'no capacity feature',
    }, async () => {
      const cap = await driver.capacity!();
      for (const v of [cap.instances, cap.cores, cap.memoryMb])
        if (v !== undefined) assert.ok(Number.isFinite(v) && v >= 0);
      assert.ok(cap.cores !== undefined || cap.memoryMb !== undefined || cap.instances !== undefined);
    });

    it('a new driver object on the same backend sees the instance', {
      skip: opts.persistent === true ? false : opts.persistent,
    }, async () => {
      const fresh = await makeDriver();
      extraDrivers.push(fresh);
      const [seen] = await fresh.describe([first.id]);
      assert.equal(seen?.name, instName);
      assert.equal(seen?.state, 'running');
    });

    it('terminate() ends the instance, and is idempotent', async () => {
      await driver.terminate(first.id);
      await eventually(
        'terminated or gone',
        async () => {
          const [i] = await driver.describe([first.id]);
          return !i || i.state === 'terminated' ? true : undefined;
        },
        timeout,
      );
      await driver.terminate(first.id);
      await driver.terminate(opts.unknownId);
      await driver.terminate('no-such-instance');
      created.delete(first.id);
    });
  });
}
