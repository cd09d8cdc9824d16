/**
 * A login that stops half-way (the server's answer to one step never arrives: a lost
 * segment, a server busy with a login storm) must be retried well before the server
 * drops the stream as idle (30 s), and the retry must start on a fresh socket. Here a
 * relay in front of a real ejabberd withholds the server's side of the TLS handshake on
 * one connection only; the others go through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { capturingLogger } from '../helpers/log.js';
import { listenLocal } from '../helpers/net.js';
import { startEjabberd } from '../helpers/ejabberd.js';
import { tokenFor } from '../helpers/agents.js';
import { Connection } from '../../core/index.js';

test('a login step the server never answers is abandoned after the stall time and retried on a fresh socket', {
  timeout: 90_000,
}, async () => {
  const t = await startEjabberd();
  const [ip, port] = [t.server.info.ip, t.server.info.c2sPort];
  let accepted = 0;
  let stalled: number | undefined;
  const closed: number[] = [];
  const relay = createServer((client: Socket) => {
    const n = ++accepted;
    const upstream = connect({ host: ip, port });
    let withholding = false;
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (withholding) return;
      client.write(d);
      // One connection: pass <proceed/>, then nothing (the TLS handshake never ends).
      if (stalled === undefined && d.toString('latin1').includes('<proceed')) {
        stalled = n;
        withholding = true;
      }
    });
    client.on('close', () => {
      closed.push(n);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  const relayPort = await listenLocal(relay);

  const { log, lines } = capturingLogger();
  const c = new Connection({
    kind: 'client',
    service: `xmpp://127.0.0.1:${relayPort}`,
    domain: t.host,
    username: 'vm-stall',
    password: await tokenFor(t, 'vm-stall'),
    isToken: true,
    ca: t.ca,
    resource: 'agent',
    log,
    maxStartAttempts: 5,
    loginStallMs: 4000,
    backoff: { baseMs: 10, maxMs: 20 },
  });
  try {
    // Without the stall limit this waits out the 30 s login timeout, or the server's.
    await c.start();
    assert.equal(c.isOnline, true);
    assert.ok(
      stalled !== undefined && accepted > stalled,
      `retried after the stall (${accepted} connections, stalled #${stalled})`,
    );
    assert.ok(closed.includes(stalled!), 'the stalled socket was closed');
    assert.ok(!closed.includes(accepted), 'the live one kept');
    const reasons = lines
      .map((l) => JSON.parse(l) as { msg: string; reason?: string })
      .filter((l) => l.msg === 'connect failed, retrying')
      .map((l) => l.reason ?? '');
    assert.ok(
      reasons.some((r) =>
        /^login stalled: nothing from the server for 4000 ms \(stream .*last from the server: <proceed>\)$/.test(r),
      ),
      reasons.join('\n'),
    );
  } finally {
    await c.stop();
    relay.close();
  }
});
