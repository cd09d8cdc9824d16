/** Which fixed-service replicas a deployment needs, from its instances alone. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extraReplicas, missingReplicas } from '../../agents/gateway/desired.js';
import { parseCluster } from '../../agents/gateway/model/cluster.js';
import type { Instance } from '../../agents/gateway/model/index.js';
import type { InstanceState } from '../../agents/gateway/model/states.js';

const def = parseCluster(`[cluster]
name = batch

[service.head]
type = fixed
order = 1
flavor = small
image = cernvm-4

[service.worker]
type = scalable
depends = head
min = 1
initial = 2
max = 10
flavor = small
image = cernvm-4
`);

let n = 0;
const inst = (service: string, cloud: string, state: InstanceState, replica = false): Instance => ({
  id: `i${++n}`,
  deploymentId: 'd',
  service,
  name: `${service}-${n}`,
  cloud,
  replica,
  state,
  ready: state === 'running',
  createdAt: n,
  updatedAt: n,
});

test('a cloud with workers and no head gets a head replica', () => {
  const is = [inst('head', 'a', 'running'), inst('worker', 'a', 'running'), inst('worker', 'b', 'booting')];
  assert.deepEqual(missingReplicas(def, is), [{ service: 'head', cloud: 'b' }]);
  assert.deepEqual(missingReplicas(def, [...is, inst('head', 'b', 'requested', true)]), []);
});

test('while the head itself is lost, no replica is made for it: it is replaced first', () => {
  const is = [inst('head', 'a', 'failed'), inst('worker', 'a', 'running'), inst('worker', 'b', 'running')];
  assert.deepEqual(missingReplicas(def, is), []);
  // Once the replacement is there, the other cloud gets its replica again.
  assert.deepEqual(missingReplicas(def, [...is, inst('head', 'a', 'requested')]), [{ service: 'head', cloud: 'b' }]);
});

test('a replica beside an active home instance is surplus', () => {
  const replica = inst('head', 'a', 'running', true);
  assert.deepEqual(
    extraReplicas(def, [inst('head', 'a', 'running'), inst('worker', 'a', 'running'), replica]).map((i) => i.id),
    [replica.id],
  );
});
