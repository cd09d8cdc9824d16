/**
 * An agent given the nodes of a cluster fails over between them: after a failed login it
 * tries the next node, round after round, and waits longer each round (full jitter).
 * The INI file's [xmpp] servers key lists them; a malformed entry is named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerRotation } from '../../core/servers.js';
import { parseConfig } from '../../core/config.js';
import { xmppSection, xmppOptions } from '../../core/agent-config.js';
import { ConfigError } from '../../core/errors.js';

const A = 'xmpp://10.0.0.1:5222';
const B = 'xmpp://10.0.0.2:5222';
const C = 'xmpp://10.0.0.3:5223';

/** Math.random pinned just under 1 makes the full-jitter delay its cap (cap - 1). */
function withRandom<T>(r: number, fn: () => T): T {
  const real = Math.random;
  Math.random = () => r;
  try {
    return fn();
  } finally {
    Math.random = real;
  }
}

test('failed logins rotate through the servers; the backoff cap doubles once per round', () => {
  const rot = new ServerRotation([A, B, C], { baseMs: 100, maxMs: 1000 });
  const tried: string[] = [];
  const delays: number[] = [];
  withRandom(0.99999, () => {
    for (let i = 0; i < 12; i++) {
      tried.push(rot.current);
      delays.push(rot.failed());
    }
  });
  assert.deepEqual(tried, [A, B, C, A, B, C, A, B, C, A, B, C]);
  // round 0: cap 100, round 1: 200, round 2: 400, round 3: 800 (max 1000 not reached yet)
  assert.deepEqual(delays, [99, 99, 99, 199, 199, 199, 399, 399, 399, 799, 799, 799]);
  assert.equal(rot.current, A);
});

test('a session that comes up resets the backoff but stays on the server that took it', () => {
  const rot = new ServerRotation([A, B], { baseMs: 100, maxMs: 300 });
  withRandom(0.99999, () => {
    for (let i = 0; i < 7; i++) rot.failed();
    assert.equal(rot.current, B);
    assert.equal(rot.failed(), 299, 'capped at maxMs');
    rot.failed();
    assert.equal(rot.current, B);
    rot.succeeded();
    assert.equal(rot.current, B, 'the next login goes back where the session was (it may resume there)');
    assert.equal(rot.failed(), 99, 'first round again');
    assert.equal(rot.current, A);
  });
  const jitter = new ServerRotation([A], { baseMs: 1000, maxMs: 1000 });
  const seen = new Set<number>();
  for (let i = 0; i < 50; i++) seen.add(jitter.failed());
  assert.ok(seen.size > 1 && [...seen].every((d) => d >= 0 && d < 1000), 'full jitter spreads the delays');
  assert.throws(() => new ServerRotation([]), /at least one server/);
});

test('[xmpp] servers lists the nodes in order; the single server key still works', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-servers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'agent.ini');
  const schema = { xmpp: xmppSection };
  const parse = (body: string) => parseConfig(`[xmpp]\njid = a@example.org\npassword = pw\n${body}`, file, schema).xmpp;

  const many = await xmppOptions(parse('servers = node1.example.org:5222, 10.0.0.2 , [::1]:15222\n'), file);
  assert.deepEqual(many.services, ['xmpp://node1.example.org:5222', 'xmpp://10.0.0.2:5222', 'xmpp://[::1]:15222']);
  assert.equal(many.service, 'xmpp://node1.example.org:5222');

  const single = await xmppOptions(parse('server = 127.0.0.1:15222\n'), file);
  assert.deepEqual(single.services, ['xmpp://127.0.0.1:15222']);
  assert.equal(single.service, 'xmpp://127.0.0.1:15222');

  const bad = (body: string) => {
    try {
      parse(body);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return (err as Error).message;
    }
    assert.fail(`accepted: ${body}`);
  };
  assert.match(
    bad('servers = a:5222, b:99999\n'),
    /agent\.ini:4 \[xmpp\] servers: entry 2 'b:99999': port 99999 is out of range/,
  );
  assert.match(bad('servers = a:5222,,b:5222\n'), /\[xmpp\] servers: entry 2 is empty/);
  assert.match(bad('servers = a:5222 b:5222\n'), /\[xmpp\] servers: entry 1 'a:5222 b:5222': expected host:port/);
  assert.match(bad('servers = \n'), /\[xmpp\] servers: expected host:port, host:port/);
});
