/** The gateway's change notifier: what is reported before the conductor exists is not lost. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNotifier } from '../../agents/gateway/notifier.js';
import type { DeploymentEvent, Instance } from '../../agents/gateway/model/index.js';

test('changes reported before a listener is attached reach it, each deployment once', () => {
  const n = createNotifier();
  n.changed('d1');
  n.changed('d2');
  n.changed('d1');
  const lostEarly = { id: 'i1' } as Instance;
  n.lost(lostEarly);
  const kicked: string[] = [];
  const lost: Instance[] = [];
  n.attach({ changed: (id) => kicked.push(id), lost: (i) => lost.push(i) });
  assert.deepEqual(kicked, ['d1', 'd2']);
  assert.deepEqual(lost, [lostEarly]);
  n.changed('d3');
  assert.deepEqual(kicked, ['d1', 'd2', 'd3']);
});

test('events wait for their listener; channels attach separately', () => {
  const n = createNotifier();
  const e = { seq: 1, deploymentId: 'd1' } as unknown as DeploymentEvent;
  n.appended(e);
  n.attach({ changed: () => {} });
  const got: DeploymentEvent[] = [];
  n.attach({ appended: (x) => got.push(x) });
  assert.deepEqual(got, [e]);
});

test('a second listener for the same channel is a wiring error', () => {
  const n = createNotifier();
  n.attach({ changed: () => {} });
  assert.throws(() => n.attach({ changed: () => {} }), /listener already/);
});
