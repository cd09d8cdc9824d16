/**
 * waitFor rides out a gateway that is briefly away (restarting, or its server is): an
 * unreachable gateway or an unanswered status read is asked again at the next poll, and
 * only the wait's own deadline ends it, naming the last error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../agents/gateway/client/wait.js';
import { GatewayUnreachableError } from '../../agents/gateway/index.js';
import { TimeoutError } from '../../protocols/index.js';
import type { DeploymentView } from '../../agents/gateway/index.js';

const view = (state: string, ready: number): DeploymentView =>
  ({
    id: 'd-1',
    cluster: 'c',
    owner: 'ada@x',
    state,
    destroying: false,
    services: [{ name: 'w', ready, wanted: 1 }],
    instances: [],
  }) as unknown as DeploymentView;

const noFollow = async () => {
  throw new Error('no event node');
};

test('an unreachable gateway is asked again until it answers', async () => {
  let calls = 0;
  const status = async () => {
    calls++;
    if (calls <= 2) throw new GatewayUnreachableError('gateway g@x is not online');
    if (calls === 3) throw new TimeoutError('no answer');
    return view('completed', 1);
  };
  const final = await waitFor({ status, follow: noFollow }, 'd-1', ['completed'], { timeoutMs: 10_000, pollMs: 20 });
  assert.equal(final.state, 'completed');
  assert.ok(calls >= 4);
});

test('a gateway away past the deadline ends the wait with a timeout naming the last error', async () => {
  const status = async (): Promise<DeploymentView> => {
    throw new GatewayUnreachableError('gateway g@x is not online');
  };
  await assert.rejects(
    waitFor({ status, follow: noFollow }, 'd-1', ['completed'], { timeoutMs: 200, pollMs: 20 }),
    (e: unknown) => e instanceof TimeoutError && /last error: gateway g@x is not online/.test((e as Error).message),
  );
});

test('any other error ends the wait at once', async () => {
  const status = async (): Promise<DeploymentView> => {
    throw Object.assign(new Error('deployment d-1 not found'), { code: 'CG_NOT_FOUND' });
  };
  await assert.rejects(
    waitFor({ status, follow: noFollow }, 'd-1', ['completed'], { timeoutMs: 10_000, pollMs: 20 }),
    /not found/,
  );
});
