/**
 * What the scaler keeps between ticks (views.ts): each active instance's view, entered
 * by id, so a heartbeat updates the view a decision reads without the tick looking
 * anything up or making objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forget, heard, slotsOf, type View } from '../../agents/gateway/autoscale/views.js';
import type { Report } from '../../agents/gateway/autoscale/index.js';

const row = (id: string, service: string, replica = false) => ({ id, service, replica, ready: true, createdAt: 5 });
const rps = (n: number, at = 1): Report => ({ at, values: { rps: n }, busy: false });

test("rows are grouped by service with their latest reports; a service's own list leaves its head replicas out", () => {
  const reports = new Map([['a', rps(3)]]);
  const index = new Map<string, View>();
  const slots = slotsOf([row('a', 'web'), row('r', 'web', true), row('h', 'head')], (id) => reports.get(id), index);
  assert.deepEqual(
    slots.get('web')!.all.map((v) => v.id),
    ['a', 'r'],
  );
  assert.deepEqual(
    slots.get('web')!.own.map((v) => v.id),
    ['a'],
  );
  assert.equal(slots.get('web')!.own[0]!.report, reports.get('a'));
  assert.equal('report' in slots.get('head')!.all[0]!, false, 'no report yet: none (booting, never idle)');
  assert.deepEqual([...index.keys()].sort(), ['a', 'h', 'r']);
});

test('a heartbeat shows in the kept view, in every list that holds it; a forgotten deployment takes none', () => {
  const index = new Map<string, View>();
  const slots = slotsOf([row('a', 'web'), row('b', 'web', true)], () => undefined, index);
  const web = slots.get('web')!;
  const before = [...web.all];

  heard(index, 'b', rps(7, 2));
  heard(index, 'zz', rps(1, 2));
  assert.deepEqual(web.all[1], { id: 'b', createdAt: 5, ready: true, report: rps(7, 2) });
  assert.equal(web.all[1], before[1], 'the same object: nothing made per tick');
  assert.equal(web.own[0]!.report, undefined, 'a has not reported');
  heard(index, 'a', rps(9, 3));
  assert.equal(web.own[0]!.report!.values.rps, 9, 'the own list and the full list share the view');
  assert.equal(web.all[0]!.report!.values.rps, 9);

  // Read again (b gone): heartbeats reach the new view; forgetting the old ones keeps it.
  const again = slotsOf([row('a', 'web')], () => rps(9, 3), index);
  forget(slots, index);
  assert.deepEqual([...index.keys()], ['a']);
  heard(index, 'a', rps(1, 4));
  assert.equal(again.get('web')!.own[0]!.report!.values.rps, 1);
  assert.equal(web.own[0]!.report!.values.rps, 9, 'the old view no longer changes');
});
