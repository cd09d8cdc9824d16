/** Small helpers of the scale benchmarks: word flags, arrivals, bounded runs, /proc readings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  Arrivals,
  DeadlineError,
  outcome,
  unlessAborted,
  wordOf,
  wordsToIndexes,
  ownMemory,
  processMemory,
  processCpuS,
  groupProcesses,
} from '../../bench/lib/index.js';
import { parseFlags } from '../../bench/lib.js';

test('word flags become indexes into their choices, other flags pass through', () => {
  const b = { words: { driver: ['libvirt', 'local'] } };
  assert.deepEqual(wordsToIndexes(b, ['--driver', 'local', '--instances', '5']), ['--driver', '1', '--instances', '5']);
  assert.deepEqual(wordsToIndexes(b, ['--driver=libvirt']), ['--driver', '0']);
  assert.deepEqual(parseFlags(wordsToIndexes(b, ['--instances=3', '--driver', 'local']), ['driver', 'instances']), {
    instances: 3,
    driver: 1,
  });
  assert.throws(() => wordsToIndexes(b, ['--driver', 'ec2']), /--driver must be one of libvirt, local, got 'ec2'/);
  assert.throws(() => wordsToIndexes(b, ['--driver']), /got ''/);
  assert.deepEqual(wordsToIndexes({}, ['--driver', 'x']), ['--driver', 'x'], 'a benchmark without words is untouched');
  assert.equal(wordOf(['libvirt', 'local'] as const, 1, 'libvirt'), 'local');
  assert.equal(wordOf(['libvirt', 'local'] as const, undefined, 'libvirt'), 'libvirt');
});

test('arrivals count each key once and resolve at the n-th, with its time', async () => {
  const a = new Arrivals('things');
  const ac = new AbortController();
  const done = a.all(3, 5000, ac.signal);
  a.add('x');
  a.add('x');
  a.add('y');
  assert.equal(a.count, 2);
  await new Promise((r) => setTimeout(r, 5));
  a.add('z');
  const t = await done;
  assert.equal(t, a.at.get('z'));
  assert.equal(await a.all(2, 5000, ac.signal), a.at.get('z'), 'already there: at once');
});

test('arrivals fail when nothing new comes for the stall time, naming how many came', async () => {
  const a = new Arrivals('instances running');
  a.add('one');
  await assert.rejects(a.all(2, 300, new AbortController().signal), /instances running: 1 of 2, none more for 0.3 s/);
  const ac = new AbortController();
  const p = a.all(2, 60_000, ac.signal);
  ac.abort(new Error('deadline'));
  await assert.rejects(p, /deadline/);
});

test('a bounded run keeps what it measured and says why it ended', async () => {
  const r = await outcome(0.2, async (res, signal) => {
    res.first = 1;
    await unlessAborted(new Promise(() => {}), signal);
    res.never = true;
  });
  assert.deepEqual(Object.keys(r), ['first', 'error']);
  assert.equal(r.error, new DeadlineError(0.2).message);
  const failed = await outcome(10, async (res) => {
    res.a = 1;
    throw new Error('step 2 failed');
  });
  assert.deepEqual(failed, { a: 1, error: 'step 2 failed' });
  assert.deepEqual(
    await outcome(10, async (res) => {
      res.ok = true;
    }),
    { ok: true },
  );
});

test('unlessAborted leaves no listener behind and no unhandled rejection', async () => {
  const ac = new AbortController();
  for (let i = 0; i < 50; i++) await unlessAborted(Promise.resolve(i), ac.signal);
  ac.abort(new Error('stop'));
  let unhandled = 0;
  const count = () => {
    unhandled++;
  };
  process.on('unhandledRejection', count);
  try {
    await assert.rejects(unlessAborted(Promise.reject(new Error('late failure')), ac.signal), /stop/);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(unhandled, 0);
  } finally {
    process.off('unhandledRejection', count);
  }
});

test("memory and CPU come from /proc: ours, and a process group's members", async () => {
  const own = ownMemory();
  assert.ok(own.rss_mb > 10 && own.peak_rss_mb >= own.rss_mb, JSON.stringify(own));
  const mine = processMemory(process.pid)!;
  assert.ok(mine.rss_mb > 10 && mine.peak_rss_mb >= mine.rss_mb);
  assert.ok(processCpuS(process.pid)! > 0);
  assert.equal(processMemory(0x3fffffff), undefined, 'a pid that cannot exist');
  const child = spawn('/bin/sh', ['-c', 'sleep 5 & sleep 5; wait'], { detached: true, stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const group = groupProcesses(child.pid!);
    assert.ok(
      group.some((p) => p.pid === child.pid && p.comm === 'sh'),
      JSON.stringify(group),
    );
    assert.ok(group.filter((p) => p.comm === 'sleep').length === 2, JSON.stringify(group));
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
  }
});
