import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, bar, elapsed } from '../../agents/gateway/cli.js';
import { parseCounts } from '../../agents/gateway/cli/deployments.js';
import type { DeploymentView } from '../../agents/gateway/client.js';

const view = (state: DeploymentView['state'], head: number, worker: number): DeploymentView => ({
  id: 'd1',
  cluster: 'batch',
  owner: 'ada@example.org',
  state,
  created: '',
  updated: '',
  node: 'deployments/d1',
  instances: [],
  services: [
    { name: 'head', type: 'fixed', wanted: 1, ready: head },
    { name: 'worker', type: 'scalable', wanted: 3, ready: worker },
  ],
});
const sink = (isTTY: boolean) => {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } };
};

test('bars and elapsed time', () => {
  assert.equal(bar(0, 3, 6), '[------]');
  assert.equal(bar(2, 3, 6), '[####--]');
  assert.equal(bar(5, 3, 6), '[######]');
  assert.equal(bar(0, 0, 4), '[####]', 'nothing wanted is complete');
  assert.equal(elapsed(1000, 13_450), '  12.4s');
});

test('without a terminal: one line per change, nothing for repeats', () => {
  const { out, stream } = sink(false);
  const p = createProgress({ stream, start: Date.now() });
  p.view(view('pending', 0, 0));
  p.view(view('pending', 0, 0));
  p.view(view('running', 1, 0));
  p.view(view('running', 1, 3));
  p.event({
    deployment: 'd1',
    seq: 7,
    type: 'instance',
    message: 'worker-3 ready',
    state: 'running',
    data: undefined,
    at: '',
  });
  p.end();
  const lines = out
    .join('')
    .trimEnd()
    .split('\n')
    .map((l) => l.replace(/^\[\s*[\d.]+s\] /, ''));
  assert.deepEqual(lines, [
    'deployment d1 (batch) pending',
    'head 0/1 ready',
    'worker 0/3 ready',
    'deployment d1 (batch) running',
    'head 1/1 ready',
    'worker 3/3 ready',
    'instance: worker-3 ready',
  ]);
  assert.ok(
    out.every((s) => !s.includes('\x1b')),
    'no escape codes in logs',
  );
});

test('on a terminal: bars redrawn in place, events scroll above them', () => {
  const { out, stream } = sink(true);
  const p = createProgress({ stream, start: Date.now() });
  p.view(view('running', 1, 1));
  p.event({
    deployment: 'd1',
    seq: 8,
    type: 'instance',
    message: 'worker-2 ready',
    state: 'running',
    data: undefined,
    at: '',
  });
  p.view(view('running', 1, 2));
  p.end();
  const text = out.join('');
  assert.match(text, /head\s+\[#{24}\] 1\/1 ready \(fixed\)/);
  assert.match(text, /worker \[#{8}-{16}\] 1\/3 ready/);
  assert.match(text, /worker \[#{16}-{8}\] 2\/3 ready/);
  assert.ok(text.includes('\x1b[3A\x1b[0J'), 'the three-line block is erased before each redraw');
  assert.ok(
    text.indexOf('instance: worker-2 ready') < text.lastIndexOf('2/3 ready'),
    'the event is printed above the bars',
  );
});

test('--count parsing', () => {
  assert.deepEqual(parseCounts(['worker=5', 'gpu=0']), { worker: 5, gpu: 0 });
  for (const bad of ['worker', 'worker=', 'worker=-1', 'worker=1.5', '=3'])
    assert.throws(() => parseCounts([bad]), /--count expects service=n/, bad);
});
