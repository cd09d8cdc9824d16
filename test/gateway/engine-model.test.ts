/** What the engine added to the gateway model: migration 2, wanted counts, instance bookkeeping, the event feed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../core/index.js';
import {
  createGatewayModel,
  GATEWAY_MIGRATIONS,
  openGatewayStore,
  parseCluster,
  type DeploymentEvent,
} from '../../agents/gateway/model/index.js';
import { memoryModel } from './helpers.js';

const EXAMPLE = readFileSync(fileURLToPath(new URL('../../../examples/cluster.ini', import.meta.url)), 'utf8');

test('a version-1 database is migrated with its rows kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-gw-model-'));
  try {
    const file = join(dir, 'gw.db');
    const v1 = openStore(file, GATEWAY_MIGRATIONS.slice(0, 1));
    const m1 = createGatewayModel(v1);
    m1.users.add('alice@example.org');
    const d = m1.deployments.create('alice@example.org', parseCluster(EXAMPLE));
    // Written as version 1 knew it (the repository writes the newer columns).
    v1.prepare(`INSERT INTO instances (id, deployment_id, service, name, cloud, state, created_at, updated_at)
      VALUES ('i-1', ?, 'worker', 'worker-1', 'c@x', 'requested', 1, 1)`).run(d.id);
    const i = { id: 'i-1' };
    v1.close();
    const db = openGatewayStore(file);
    assert.equal(db.pragma('user_version', { simple: true }), GATEWAY_MIGRATIONS.length);
    const m = createGatewayModel(db);
    assert.deepEqual(
      [m.instances.require(i.id).requestId, m.instances.require(i.id).jid, m.deployments.require(d.id).destroyedAt],
      [undefined, undefined, undefined],
    );
    assert.equal(m.wanted.all(d.id).size, 0);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wanted counts, instance bookkeeping, destroy mark', () => {
  const m = memoryModel();
  m.users.add('alice@example.org');
  const d = m.deployments.create('alice@example.org', parseCluster(EXAMPLE));
  m.wanted.set(d.id, 'worker', 3);
  m.wanted.set(d.id, 'worker', 5);
  m.wanted.set(d.id, 'head', 1);
  assert.deepEqual([...m.wanted.all(d.id)].sort(), [
    ['head', 1],
    ['worker', 5],
  ]);
  assert.equal(m.wanted.get(d.id, 'nothing'), undefined);
  assert.throws(() => m.wanted.set(d.id, 'worker', -1), /CHECK/);

  const a = m.instances.add({ deploymentId: d.id, service: 'worker', cloud: 'c@x', requestId: 'a-1' });
  const b = m.instances.add({ deploymentId: d.id, service: 'worker', cloud: 'c@x', requestId: 'a-1' });
  assert.deepEqual(
    m.instances.byRequest('a-1').map((i) => i.name),
    ['worker-1', 'worker-2'],
  );
  m.instances.setCloudInfo(a.id, { cloudInstanceId: 'vm-9', jid: 'vm9@i.x' });
  assert.equal(m.instances.byJid('vm9@i.x')?.id, a.id);
  assert.equal(m.instances.byName(d.id, 'worker-2')?.id, b.id);
  m.instances.transition(b.id, 'failed', { reason: 'refused by c@x' });
  assert.equal(m.instances.require(b.id).reason, 'refused by c@x');
  assert.deepEqual(
    m.instances.inStates(['requested']).map((i) => i.id),
    [a.id],
  );

  m.clock.t += 10;
  const t1 = m.deployments.markDestroyed(d.id).destroyedAt;
  m.clock.t += 10;
  assert.equal(m.deployments.markDestroyed(d.id).destroyedAt, t1, 'the first time is kept');
});

test('every appended event reaches the hook and the feed, in order', () => {
  const seen: DeploymentEvent[] = [];
  const m = createGatewayModel(openGatewayStore(':memory:'), { onEvent: (e) => seen.push(e) });
  m.users.add('alice@example.org');
  const d = m.deployments.create('alice@example.org', parseCluster(EXAMPLE));
  m.deployments.transition(d.id, 'running');
  assert.deepEqual(
    seen.map((e) => e.type),
    ['created', 'state'],
  );
  assert.deepEqual(
    m.events.after(0).map((e) => e.seq),
    seen.map((e) => e.seq),
  );
  assert.deepEqual(
    m.events.after(seen[0]!.seq).map((e) => e.type),
    ['state'],
  );
});
