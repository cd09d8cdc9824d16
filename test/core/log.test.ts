/** Keeping secrets out of log lines (core/log.ts): by key, and by value in any string. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { withSecretsScrubbed } from '../../core/index.js';

function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    stream: new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  };
}

describe('log scrubbing', () => {
  it('replaces credential values in every string of a line, in children too, errors included', () => {
    const { stream, lines } = sink();
    const log = withSecretsScrubbed(pino({ level: 'info' }, stream), ['very-secret-5678', 'AKIDEXAMPLE']);
    const child = log.child({ module: 'watch' }).child({ cloud: 'c1' });
    child.warn(
      { error: 'denied for AKIDEXAMPLE: signature very-secret-5678 wrong', nested: { list: ['x very-secret-5678 y'] } },
      'describe failed',
    );
    child.error({ err: new Error('echoed very-secret-5678') }, 'unexpected');
    log.info({ count: 3, ok: true }, 'plain');
    assert.equal(lines.length, 3);
    for (const l of lines)
      for (const s of ['very-secret-5678', 'AKIDEXAMPLE']) assert.ok(!l.includes(s), `${s} in ${l}`);
    const [first, second, third] = lines.map((l) => JSON.parse(l) as Record<string, any>);
    assert.equal(first!.error, 'denied for [redacted]: signature [redacted] wrong');
    assert.deepEqual(first!.nested, { list: ['x [redacted] y'] });
    assert.deepEqual([first!.module, first!.cloud], ['watch', 'c1']);
    assert.equal(second!.err.message, 'echoed [redacted]');
    assert.deepEqual([third!.count, third!.ok, third!.msg], [3, true, 'plain']);
  });
});
