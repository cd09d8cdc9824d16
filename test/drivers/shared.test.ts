/** Helpers shared by the drivers: command splitting, option conversion, per-key mutex. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../core/errors.js';
import { KeyedMutex } from '../../drivers/shared/names.js';
import { OptionReader } from '../../drivers/shared/options.js';
import { splitCommand } from '../../drivers/shared/shell.js';

describe('splitCommand', () => {
  const cases: Array<[string, string[]]> = [
    ['node agent.js', ['node', 'agent.js']],
    [`  node   "/opt/cloud gate/a.js"  --x `, ['node', '/opt/cloud gate/a.js', '--x']],
    [`node -e 'console.log("hi there")'`, ['node', '-e', 'console.log("hi there")']],
    [`a\\ b "c\\"d" 'e\\f' ""`, ['a b', 'c"d', 'e\\f', '']],
    [`pre"fix"post`, ['prefixpost']],
    ['', []],
  ];
  for (const [line, words] of cases) it(JSON.stringify(line), () => assert.deepEqual(splitCommand(line), words));
  it('rejects an unterminated quote', () => assert.throws(() => splitCommand(`node 'oops`), /unterminated/));
});

describe('OptionReader', () => {
  const r = new OptionReader(
    {
      n: '12',
      bad: '1.5',
      b: 'Yes',
      l: 'a, b  c',
      'image.x': ' /p q ',
      'image.': 'z',
      empty: '  ',
      secret_key: 'hunter2',
    },
    'test',
  );
  it('converts and validates, naming the key and driver', () => {
    assert.equal(r.int('n', 0), 12);
    assert.equal(r.int('missing', 7), 7);
    assert.throws(
      () => r.int('bad', 0),
      (e: Error) =>
        e instanceof ConfigError && e.message === 'test driver: option "bad" must be a whole number, got "1.5"',
    );
    assert.throws(() => r.int('n', 0, 20), /from 20 to/);
    assert.equal(r.bool('b', false), true);
    assert.deepEqual(r.list('l'), ['a', 'b', 'c']);
    assert.equal(r.string('empty'), undefined, 'blank counts as absent');
    assert.throws(() => r.required('empty'), /"empty" is required/);
  });
  it('reads prefixed maps and rejects an empty id', () => {
    assert.throws(() => r.prefixed('image'), /"image\."/);
    const ok = new OptionReader({ 'image.x': ' /p q ', other: '1' }, 'test');
    assert.deepEqual([...ok.prefixed('image')], [['x', '/p q']]);
  });
  it('reads secrets without echoing them', () => {
    assert.equal(r.secret('secret_key'), 'hunter2');
  });
});

describe('KeyedMutex', () => {
  it('runs same-key tasks one at a time, other keys in parallel, and survives a failure', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      m.run('a', task('a1', 30, true)),
      m.run('a', task('a2', 1)),
      m.run('b', task('b1', 1)),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'fulfilled', 'fulfilled'],
    );
    assert.ok(log.indexOf('end a1') < log.indexOf('start a2'), 'a2 waited for a1');
    assert.ok(log.indexOf('end b1') < log.indexOf('end a1'), 'b1 did not wait for a');
  });
});
