/**
 * A session that was online and is refused when it logs in again (a cluster node that has
 * just lost its peer refused a correct SCRAM login under load) keeps trying: a refusal that
 * passes leaves the agent online again, and one that lasts ends the attempts with an error
 * in the log. Before, the first refusal ended them silently and the agent stayed offline.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Agent, type AgentEvent } from '../../core/index.js';
import { startEjabberd, type TestServer } from '../helpers/ejabberd.js';

/** An agent logging in with a password, and its log lines as objects. */
function passwordAgent(t: TestServer, user: string, password: string, maxRefusals?: number) {
  const lines: Array<{ level: number; msg: string; reason?: string }> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  const agent = new Agent({
    kind: 'test',
    log: pino({ level: 'warn' }, stream),
    xmpp: {
      service: t.service,
      domain: t.host,
      username: user,
      password,
      ca: t.ca,
      resource: 'agent',
      backoff: { baseMs: 50, maxMs: 200 },
      maxStartAttempts: 3,
      maxRefusals,
    },
  });
  const seen: string[] = [];
  agent.on('status', (e: AgentEvent) => seen.push(e.type));
  return { agent, lines, seen };
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a login refused after the session was online', { timeout: 90_000 }, () => {
  let t: TestServer;
  before(async () => {
    t = await startEjabberd({}, { cleanup: false });
  });
  after(() => t?.stop());

  test('a passing refusal is retried and the agent comes back online', async () => {
    const pw = randomBytes(12).toString('hex');
    await t.server.account('refused-once', t.host, pw);
    // However many attempts the password change back takes, this one does not give up.
    const { agent, lines, seen } = passwordAgent(t, 'refused-once', pw, 1000);
    after(() => agent.stop());
    await agent.start();
    // The server refuses the next login: another password, then the connection drops.
    await t.server.changePassword('refused-once', t.host, randomBytes(12).toString('hex'));
    agent.conn.dropSocket();
    await until('a refused login', () => lines.some((l) => /not-authorized/.test(l.reason ?? '')));
    await t.server.changePassword('refused-once', t.host, pw);
    await until('online again', () => seen.lastIndexOf('online') > seen.indexOf('offline'));
    assert.equal(agent.isOnline, true);
    assert.ok(!lines.some((l) => l.level >= 50), 'no error logged');
  });

  test('a refusal that lasts ends the attempts, with an error in the log', async () => {
    const pw = randomBytes(12).toString('hex');
    await t.server.account('refused-always', t.host, pw);
    const { agent, lines } = passwordAgent(t, 'refused-always', pw);
    after(() => agent.stop());
    const fatal = new Promise<Error>((resolve) => agent.conn.once('fatal', resolve));
    await agent.start();
    await t.server.changePassword('refused-always', t.host, randomBytes(12).toString('hex'));
    agent.conn.dropSocket();
    assert.match(String(await fatal), /not-authorized/);
    const refused = lines.filter((l) => /not-authorized/.test(l.reason ?? ''));
    assert.equal(refused.filter((l) => l.level === 40).length, 5, 'five refused attempts');
    const last = refused.at(-1)!;
    assert.equal(last.level, 50);
    assert.match(last.msg, /no more attempts/);
    assert.equal(agent.isOnline, false);
  });
});
