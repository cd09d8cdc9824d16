import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PlacementError,
  pickScaleIn,
  planPlacement,
  type CloudCandidate,
  type ServiceRequest,
} from '../../agents/gateway/model/index.js';

const head: ServiceRequest = { name: 'head', type: 'fixed', count: 1, cores: 2, memoryMb: 4096 };
const worker = (count: number, clouds?: string[]): ServiceRequest => ({
  name: 'worker',
  type: 'scalable',
  count,
  cores: 2,
  memoryMb: 4096,
  ...(clouds ? { clouds } : {}),
});
const cloud = (
  name: string,
  rank: number,
  cap: Partial<{ instances: number; cores: number; memoryMb: number }>,
  extra: Partial<CloudCandidate> = {},
): CloudCandidate => ({
  name,
  jid: `${name}@clouds.example.org`,
  online: true,
  allowed: true,
  rank,
  capacity: cap,
  ...extra,
});

function placementError(fn: () => unknown): PlacementError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PlacementError, String(err));
    assert.equal(err.code, 'CG_PLACEMENT');
    return err;
  }
  assert.fail('expected a PlacementError');
}

test('everything fits in the preferred cloud: no replicas', () => {
  const plan = planPlacement({ services: [head, worker(3)], clouds: [cloud('b', 2, {}), cloud('a', 1, {})] });
  assert.deepEqual(plan, {
    placements: [
      { service: 'head', cloud: 'a', count: 1 },
      { service: 'worker', cloud: 'a', count: 3 },
    ],
    replicas: [],
  });
});

test('overflow into a second cloud replicates the fixed services there, charged first', () => {
  // a: 8 cores = head (2) + 3 workers (6). b: 6 cores = head replica (2) + 2 workers.
  const plan = planPlacement({
    services: [head, worker(5)],
    clouds: [cloud('a', 1, { cores: 8 }), cloud('b', 2, { cores: 6 }), cloud('c', 3, {})],
  });
  assert.deepEqual(plan.placements, [
    { service: 'head', cloud: 'a', count: 1 },
    { service: 'worker', cloud: 'a', count: 3 },
    { service: 'worker', cloud: 'b', count: 2 },
  ]);
  assert.deepEqual(plan.replicas, [{ service: 'head', cloud: 'b', count: 1 }]);
});

test('a cloud with room for replicas but not one instance after them is skipped', () => {
  const plan = planPlacement({
    services: [head, worker(4)],
    clouds: [cloud('a', 1, { cores: 8 }), cloud('b', 2, { cores: 3 }), cloud('c', 3, { instances: 5 })],
  });
  assert.deepEqual(plan.placements.slice(1), [
    { service: 'worker', cloud: 'a', count: 3 },
    { service: 'worker', cloud: 'c', count: 1 },
  ]);
  assert.deepEqual(plan.replicas, [{ service: 'head', cloud: 'c', count: 1 }]);
});

test('scale-out: clouds already hosting the fixed services need no replicas', () => {
  const plan = planPlacement({
    services: [worker(2)],
    fixed: [head],
    clouds: [cloud('a', 1, { instances: 0 }), cloud('b', 2, {}, { hostsFixed: ['head'] }), cloud('c', 3, {})],
  });
  assert.deepEqual(plan, { placements: [{ service: 'worker', cloud: 'b', count: 2 }], replicas: [] });
  const fresh = planPlacement({ services: [worker(2)], fixed: [head], clouds: [cloud('c', 3, {})] });
  assert.deepEqual(fresh.replicas, [{ service: 'head', cloud: 'c', count: 1 }]);
});

test('the smaller of quota and capacity limits, per dimension', () => {
  const plan = planPlacement({
    services: [worker(3)],
    clouds: [
      cloud('a', 1, { cores: 100 }, { quota: { memoryMb: 8192 } }),
      cloud('b', 2, { memoryMb: 100_000 }, { quota: { instances: 5 } }),
    ],
  });
  assert.deepEqual(plan.placements, [
    { service: 'worker', cloud: 'a', count: 2 },
    { service: 'worker', cloud: 'b', count: 1 },
  ]);
});

test('service cloud preferences are an ordered allow-list, by name or JID', () => {
  const clouds = [cloud('a', 1, {}), cloud('b', 2, { instances: 1 }), cloud('c', 3, {})];
  const plan = planPlacement({ services: [worker(3, ['b@clouds.example.org', 'c'])], clouds });
  assert.deepEqual(plan.placements, [
    { service: 'worker', cloud: 'b', count: 1 },
    { service: 'worker', cloud: 'c', count: 2 },
  ]);
  const err = placementError(() => planPlacement({ services: [worker(3, ['b'])], clouds }));
  assert.equal(err.placeable, 1);
  assert.deepEqual(
    err.refusals.find((r) => r.cloud === 'a'),
    { cloud: 'a', reason: "not in the clouds of 'worker'" },
  );
});

test("a fixed service's own cloud list keeps its replicas out of other clouds", () => {
  const pinned = { ...head, clouds: ['a'] };
  const err = placementError(() =>
    planPlacement({ services: [pinned, worker(3)], clouds: [cloud('a', 1, { instances: 2 }), cloud('b', 2, {})] }),
  );
  assert.deepEqual(
    err.refusals.find((r) => r.cloud === 'b'),
    { cloud: 'b', reason: "fixed service 'head' may not run there" },
  );
});

test('offline and disallowed clouds are never used', () => {
  const clouds = [cloud('a', 1, {}, { online: false }), cloud('b', 2, {}, { allowed: false }), cloud('c', 3, {})];
  assert.deepEqual(
    planPlacement({ services: [head, worker(1)], clouds }).placements.map((p) => p.cloud),
    ['c', 'c'],
  );
});

test("nothing fits: a typed error names the service and every cloud's reason", () => {
  const err = placementError(() =>
    planPlacement({
      services: [head, worker(4)],
      clouds: [
        cloud('a', 1, { cores: 6 }),
        cloud('b', 2, { cores: 2 }),
        cloud('c', 3, {}, { online: false }),
        cloud('d', 4, {}, { allowed: false }),
      ],
    }),
  );
  assert.equal(err.service, 'worker');
  assert.equal(err.requested, 4);
  assert.equal(err.placeable, 2);
  assert.deepEqual(err.refusals, [
    { cloud: 'c', reason: 'offline' },
    { cloud: 'd', reason: 'not allowed for this user' },
    { cloud: 'a', reason: 'room for 2: capacity leaves 4 cores, one instance needs 2' },
    { cloud: 'b', reason: "after replicas of 'head', capacity leaves 0 cores, one instance needs 2" },
  ]);
  assert.match(err.message, /^cannot place 4 instance\(s\) of 'worker' \(2 fit\): /);
});

test('a fixed service is placed whole or not at all', () => {
  const err = placementError(() =>
    planPlacement({
      services: [{ ...head, count: 3 }],
      clouds: [cloud('a', 1, { instances: 2 }), cloud('b', 2, { instances: 1 })],
    }),
  );
  assert.equal(err.service, 'head');
  assert.deepEqual(
    err.refusals.map((r) => r.reason),
    [
      'room for 2 of 3: capacity leaves 2 instances, one instance needs 1',
      'room for 1 of 3: capacity leaves 1 instances, one instance needs 1',
    ],
  );
  const noClouds = placementError(() => planPlacement({ services: [head], clouds: [] }));
  assert.match(noClouds.message, /no candidate clouds/);
});

test('placement is deterministic: equal ranks fall back to the name', () => {
  const plan = planPlacement({ services: [worker(1)], clouds: [cloud('zeta', 1, {}), cloud('alpha', 1, {})] });
  assert.equal(plan.placements[0]!.cloud, 'alpha');
});

test('pickScaleIn: idle before busy, draining first, then least loaded', () => {
  const inst = [
    { id: 'busy-light', busy: true, load: 0.1 },
    { id: 'idle-heavy', busy: false, load: 0.9 },
    { id: 'idle-light', busy: false, load: 0.2 },
    { id: 'draining', busy: false, draining: true, load: 0.5 },
  ];
  assert.deepEqual(
    pickScaleIn(inst, 3).map((i) => i.id),
    ['draining', 'idle-light', 'idle-heavy'],
  );
  assert.deepEqual(
    pickScaleIn(inst, 4).map((i) => i.id),
    ['draining', 'idle-light', 'idle-heavy', 'busy-light'],
  );
  assert.deepEqual(pickScaleIn(inst, 0), []);
});

test('pickScaleIn never takes a busy instance while an idle one remains, whatever the load', () => {
  const inst = [
    { id: 'b', busy: true, load: 0 },
    { id: 'i', busy: false, load: 100 },
    { id: 'd', busy: true, draining: true },
  ];
  assert.deepEqual(
    pickScaleIn(inst, 1).map((i) => i.id),
    ['i'],
  );
  assert.deepEqual(
    pickScaleIn(inst, 2).map((i) => i.id),
    ['i', 'd'],
  );
});

test('pickScaleIn: instances not ready yet go before idle ready ones, never before a busy one is spared', () => {
  const inst = [
    { id: 'idle', busy: false, ready: true, createdAt: 9 },
    { id: 'busy', busy: true, ready: true, createdAt: 1 },
    { id: 'booting', busy: false, ready: false, createdAt: 2 },
    { id: 'draining', busy: false, ready: true, draining: true, createdAt: 3 },
  ];
  assert.deepEqual(
    pickScaleIn(inst, 4).map((i) => i.id),
    ['booting', 'draining', 'idle', 'busy'],
  );
});

test('pickScaleIn ties: less-preferred cloud, then newest, then id; input order does not matter', () => {
  const inst = [
    { id: 'x2', busy: false, cloudRank: 1, createdAt: 5 },
    { id: 'x1', busy: false, cloudRank: 1, createdAt: 5 },
    { id: 'new', busy: false, cloudRank: 1, createdAt: 9 },
    { id: 'overflow', busy: false, cloudRank: 2, createdAt: 1 },
  ];
  const expected = ['overflow', 'new', 'x1', 'x2'];
  assert.deepEqual(
    pickScaleIn(inst, 4).map((i) => i.id),
    expected,
  );
  assert.deepEqual(
    pickScaleIn([...inst].reverse(), 4).map((i) => i.id),
    expected,
  );
  assert.equal(inst[0]!.id, 'x2', 'input is not reordered');
});
