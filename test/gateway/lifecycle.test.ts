import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEPLOYMENT_STATES,
  INSTANCE_STATES,
  JOB_STATES,
  IllegalTransitionError,
  canTransition,
  createGatewayModel,
  isTerminal,
  openGatewayStore,
  parseCluster,
} from '../../agents/gateway/model/index.js';
import { code, memoryModel } from './helpers.js';

const EXAMPLE = readFileSync(fileURLToPath(new URL('../../../examples/cluster.ini', import.meta.url)), 'utf8');

function setup() {
  const m = memoryModel();
  m.users.add('alice@example.org');
  const d = m.deployments.create('alice@example.org', parseCluster(EXAMPLE));
  return { m, d };
}

test('state machines: allowed moves, terminal states', () => {
  assert.ok(canTransition(DEPLOYMENT_STATES, 'pending', 'running'));
  assert.ok(!canTransition(DEPLOYMENT_STATES, 'completed', 'running'));
  assert.ok(!canTransition(DEPLOYMENT_STATES, 'pending', 'completed'));
  assert.ok(!canTransition(DEPLOYMENT_STATES, 'nonsense', 'running'));
  assert.deepEqual(
    Object.keys(DEPLOYMENT_STATES).filter((s) => isTerminal(DEPLOYMENT_STATES, s)),
    ['completed', 'failed', 'aborted'],
  );
  assert.deepEqual(
    Object.keys(INSTANCE_STATES).filter((s) => isTerminal(INSTANCE_STATES, s)),
    ['terminated'],
  );
  assert.ok(canTransition(INSTANCE_STATES, 'failed', 'terminating'), 'a failed VM may still need terminating');
  assert.ok(canTransition(INSTANCE_STATES, 'draining', 'running'), 'draining can be undone');
  assert.deepEqual(
    Object.keys(JOB_STATES).filter((s) => isTerminal(JOB_STATES, s)),
    ['succeeded', 'failed', 'cancelled'],
  );
});

test('the schema CHECK constraints accept exactly the states of the machines', () => {
  const { m, d } = setup();
  const checkOf = (table: string) => {
    const sql = m.db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck().get(table) as string;
    return /state TEXT NOT NULL CHECK \(state IN \(([^)]*)\)\)/
      .exec(sql)![1]!
      .split(',')
      .map((s) => s.trim().slice(1, -1))
      .sort();
  };
  assert.deepEqual(checkOf('deployments'), Object.keys(DEPLOYMENT_STATES).sort());
  assert.deepEqual(checkOf('instances'), Object.keys(INSTANCE_STATES).sort());
  assert.deepEqual(checkOf('jobs'), Object.keys(JOB_STATES).sort());
  assert.throws(
    () => m.db.prepare("UPDATE deployments SET state = 'zombie' WHERE id = ?").run(d.id),
    /CHECK constraint/,
  );
});

test('deployment: pending -> running -> completed, each change recorded as an event', () => {
  const { m, d } = setup();
  assert.equal(d.state, 'pending');
  assert.equal(d.cluster, 'batch');
  assert.deepEqual(d.definition, JSON.parse(JSON.stringify(parseCluster(EXAMPLE))));
  m.clock.t += 5;
  const r = m.deployments.transition(d.id, 'running');
  assert.equal(r.state, 'running');
  assert.equal(r.updatedAt, m.clock.t);
  m.deployments.transition(d.id, 'completed', { message: 'destroyed on request', data: { by: 'alice' } });
  const ev = m.events.list(d.id);
  assert.deepEqual(
    ev.map((e) => [e.type, e.message]),
    [
      ['created', "deployment of cluster 'batch' created"],
      ['state', 'pending -> running'],
      ['state', 'destroyed on request'],
    ],
  );
  assert.deepEqual(ev[2]!.data, { from: 'running', to: 'completed', detail: { by: 'alice' } });
  assert.deepEqual(
    m.events.list(d.id, { afterSeq: ev[0]!.seq }).map((e) => e.seq),
    [ev[1]!.seq, ev[2]!.seq],
  );
});

test('illegal deployment transitions are typed errors and change nothing', () => {
  const { m, d } = setup();
  assert.throws(
    () => m.deployments.transition(d.id, 'completed'),
    (err: unknown) =>
      err instanceof IllegalTransitionError &&
      err.code === 'CG_ILLEGAL_TRANSITION' &&
      err.from === 'pending' &&
      err.to === 'completed',
  );
  m.deployments.transition(d.id, 'aborted');
  assert.equal(
    code(() => m.deployments.transition(d.id, 'running')),
    'CG_ILLEGAL_TRANSITION',
  );
  assert.equal(m.deployments.require(d.id).state, 'aborted');
  assert.equal(m.events.list(d.id).length, 2);
  assert.equal(
    code(() => m.deployments.transition('d-404', 'running')),
    'CG_NOT_FOUND',
  );
  assert.equal(
    code(() => m.deployments.create('nobody@example.org', parseCluster(EXAMPLE))),
    'CG_NOT_FOUND',
  );
});

test('events are append-only in the database', () => {
  const { m, d } = setup();
  assert.throws(
    () => m.db.prepare("UPDATE events SET message = 'rewritten' WHERE deployment_id = ?").run(d.id),
    /append-only/,
  );
});

test('deployments list by owner and state', () => {
  const { m, d } = setup();
  m.users.add('bob@example.org');
  const other = m.deployments.create('bob@example.org', parseCluster(EXAMPLE));
  m.deployments.transition(other.id, 'running');
  assert.deepEqual(
    m.deployments.list({ owner: 'ALICE@example.org' }).map((x) => x.id),
    [d.id],
  );
  assert.deepEqual(
    m.deployments.list({ states: ['running'] }).map((x) => x.id),
    [other.id],
  );
  assert.equal(m.deployments.list().length, 2);
});

test('instances: named per service, cloud id on booting, ready cleared when leaving running', () => {
  const { m, d } = setup();
  const a = m.instances.add({ deploymentId: d.id, service: 'worker', cloud: 'cloud-a@clouds.example.org' });
  const b = m.instances.add({ deploymentId: d.id, service: 'worker', cloud: 'cloud-a@clouds.example.org' });
  const h = m.instances.add({
    deploymentId: d.id,
    service: 'head',
    cloud: 'cloud-b@clouds.example.org',
    replica: true,
  });
  assert.deepEqual(
    [a.name, b.name, h.name, h.replica, a.state, a.ready],
    ['worker-1', 'worker-2', 'head-1', true, 'requested', false],
  );
  m.instances.transition(a.id, 'booting', { cloudInstanceId: 'i-0abc' });
  assert.equal(m.instances.byCloudId('cloud-a@clouds.example.org', 'i-0abc')!.id, a.id);
  m.instances.transition(a.id, 'running');
  m.clock.t += 30_000;
  const beat = m.instances.heartbeat(a.id, { ready: true });
  assert.deepEqual([beat.ready, beat.lastHeartbeat], [true, m.clock.t]);
  const drained = m.instances.transition(a.id, 'draining');
  assert.equal(drained.ready, false);
  assert.equal(
    code(() => m.instances.transition(a.id, 'booting')),
    'CG_ILLEGAL_TRANSITION',
  );
  m.instances.transition(a.id, 'terminating');
  m.instances.transition(a.id, 'terminated');
  assert.equal(
    code(() => m.instances.transition(a.id, 'running')),
    'CG_ILLEGAL_TRANSITION',
  );
  // A removed instance's number is not reused while its row exists.
  assert.equal(m.instances.add({ deploymentId: d.id, service: 'worker', cloud: 'c' }).name, 'worker-3');
  assert.deepEqual(
    m.instances.list(d.id, { service: 'worker', states: ['requested'] }).map((i) => i.name),
    ['worker-2', 'worker-3'],
  );
  assert.ok(m.events.list(d.id).some((e) => e.type === 'instance' && e.message === 'worker-1 running -> draining'));
  assert.equal(
    code(() => m.instances.add({ deploymentId: 'd-404', service: 'w', cloud: 'c' })),
    'CG_NOT_FOUND',
  );
  assert.equal(
    code(() => m.instances.heartbeat('i-404')),
    'CG_NOT_FOUND',
  );
});

test('instances record the context version they run, which must exist', () => {
  const { m, d } = setup();
  const c = m.contexts.create({
    owner: 'alice@example.org',
    name: 'worker',
    content: { type: 'plain', body: '[amiconfig]\n' },
  });
  const i = m.instances.add({ deploymentId: d.id, service: 'worker', cloud: 'c', context: { id: c.id, version: 1 } });
  assert.deepEqual(i.context, { id: c.id, version: 1 });
  m.contexts.newVersion(c.id, { type: 'plain', body: '[amiconfig]\nplugins =\n' });
  assert.deepEqual(m.instances.setContext(i.id, { id: c.id, version: 2 }).context, { id: c.id, version: 2 });
  assert.equal(
    code(() => m.instances.setContext(i.id, { id: c.id, version: 3 })),
    'CG_NOT_FOUND',
  );
  assert.equal(
    code(() => m.instances.add({ deploymentId: d.id, service: 'w', cloud: 'c', context: { id: 'c-404', version: 1 } })),
    'CG_NOT_FOUND',
  );
});

test('jobs: queued -> running -> succeeded with result; unfinished jobs are found after a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-gw-'));
  const file = join(dir, 'gateway.db');
  let m = createGatewayModel(openGatewayStore(file));
  m.users.add('alice@example.org');
  const d = m.deployments.create('alice@example.org', parseCluster(EXAMPLE));
  const j1 = m.jobs.create(d.id, 'deploy', { initial: { worker: 3 } });
  const j2 = m.jobs.create(d.id, 'scale', { service: 'worker', to: 5 });
  assert.deepEqual([j1.state, j1.kind, j1.request], ['queued', 'deploy', { initial: { worker: 3 } }]);
  m.jobs.transition(j1.id, 'running');
  m.jobs.transition(j1.id, 'succeeded', { result: { instances: 4 } });
  m.jobs.transition(j2.id, 'running');
  assert.equal(
    code(() => m.jobs.transition(j1.id, 'running')),
    'CG_ILLEGAL_TRANSITION',
  );
  assert.equal(
    code(() => m.jobs.create('d-404', 'deploy', {})),
    'CG_NOT_FOUND',
  );
  m.db.close();

  m = createGatewayModel(openGatewayStore(file));
  assert.deepEqual(
    m.jobs.unfinished().map((j) => j.id),
    [j2.id],
  );
  assert.deepEqual(m.jobs.require(j1.id).result, { instances: 4 });
  const failed = m.jobs.transition(j2.id, 'failed', { error: 'quota exceeded on cloud-a' });
  assert.equal(failed.error, 'quota exceeded on cloud-a');
  assert.ok(m.events.list(d.id).some((e) => e.message === 'scale job failed: quota exceeded on cloud-a'));
  assert.deepEqual(
    m.jobs.list(d.id).map((j) => j.state),
    ['succeeded', 'failed'],
  );
  m.db.close();
});

test('users and groups: bare JIDs, admin flag, memberships', () => {
  const m = memoryModel();
  m.groups.add('physics', 'physicists');
  const u = m.users.add('Alice@Example.ORG/phone', { groups: ['physics'] });
  assert.deepEqual([u.jid, u.admin, u.groups], ['alice@example.org', false, ['physics']]);
  assert.equal(
    code(() => m.users.add('alice@example.org')),
    'CG_CONFLICT',
  );
  assert.equal(
    code(() => m.users.add('bob@example.org', { groups: ['nope'] })),
    'CG_NOT_FOUND',
  );
  assert.equal(m.users.get('bob@example.org'), undefined, 'a failed add leaves nothing behind');
  assert.equal(
    code(() => m.users.add('not a jid')),
    'CG_INVALID_JID',
  );
  assert.equal(m.users.setAdmin('alice@example.org', true).admin, true);
  assert.ok(m.users.inGroup('alice@example.org/other', 'physics'));
  assert.deepEqual(m.groups.members('physics'), ['alice@example.org']);
  m.groups.remove('physics');
  assert.deepEqual(m.users.require('alice@example.org').groups, []);
  m.contexts.create({ owner: 'alice@example.org', name: 'w', content: { type: 'plain', body: '' } });
  assert.equal(
    code(() => m.users.remove('alice@example.org')),
    'CG_CONFLICT',
  );
});

test('cluster definitions: stored with their parsed form, replaced by name, errors name the file', () => {
  const m = memoryModel();
  m.users.add('alice@example.org');
  const rec = m.clusters.put('alice@example.org', EXAMPLE);
  assert.equal(rec.name, 'batch');
  assert.equal(rec.definition.services.length, 2);
  m.clock.t += 10;
  const edited = m.clusters.put('alice@example.org', EXAMPLE.replace('max = 10', 'max = 20'));
  assert.equal(edited.createdAt, rec.createdAt);
  assert.equal(edited.updatedAt, m.clock.t);
  assert.equal(m.clusters.list('alice@example.org').length, 1);
  assert.throws(
    () => m.clusters.put('alice@example.org', EXAMPLE.replace('max = 10', 'max = 0'), 'mine.ini'),
    /ConfigInvalidError: mine\.ini:\d+ \[service\.worker\] max: 0 is below the minimum 1/,
  );
  assert.equal(m.clusters.remove('alice@example.org', 'batch'), true);
  assert.equal(m.clusters.get('alice@example.org', 'batch'), undefined);
});
