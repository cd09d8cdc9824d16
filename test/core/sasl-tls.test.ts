/**
 * Unit test of the client's login against a stand-in peer that offers SASL but no
 * STARTTLS (a downgraded or misconfigured server): the client sends no secret, not even
 * a SCRAM exchange, unless told the peer is a loopback test server without TLS.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { Connection } from '../../core/connection.js';
import { createLogger } from '../../core/log.js';
import { listenLocal } from '../helpers/net.js';
import { until } from '../helpers/wait.js';

const log = createLogger({ level: 'silent' });

/** Answers a stream header with features offering SCRAM-SHA-1 and PLAIN, no STARTTLS; records what clients send. */
async function plaintextPeer() {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    let input = '';
    s.setEncoding('utf8');
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.on('data', (d: string) => {
      input += d;
      received.push(d);
      if (input.includes('<stream:stream') && !input.includes('<auth')) {
        s.write(
          "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>" +
            "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
        );
        input = input.replace('<stream:stream', '');
      }
    });
  });
  const port = await listenLocal(server);
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port, auths: () => received.join('').match(/<auth[^>]*>/g) ?? [] };
}

test('no SASL exchange starts on a stream the server did not encrypt', async () => {
  const peer = await plaintextPeer();
  for (const isToken of [false, true]) {
    const c = new Connection({
      kind: 'client',
      service: `xmpp://127.0.0.1:${peer.port}`,
      domain: 'localhost',
      username: 'bob',
      password: 'secret-pw',
      isToken,
      log,
      maxStartAttempts: 3,
    });
    await assert.rejects(
      c.start(),
      (e: any) =>
        e.code === 'CG_CONNECTION' &&
        e.permanent === true &&
        /unencrypted stream/.test(e.message) &&
        /did not offer STARTTLS/.test(e.message),
    );
    await c.stop();
  }
  assert.deepEqual(peer.auths(), []);
});

test('a loopback test server without TLS gets the SASL exchange only when that is configured', async () => {
  const peer = await plaintextPeer();
  const c = new Connection({
    kind: 'client',
    service: `xmpp://127.0.0.1:${peer.port}`,
    domain: 'localhost',
    username: 'bob',
    password: 'secret-pw',
    insecureLoopback: true,
    log,
    maxStartAttempts: 1,
    loginStallMs: 600_000,
  });
  const starting = c.start();
  starting.catch(() => {});
  const auths = await until("the client's SASL auth", () => peer.auths().length > 0 && peer.auths());
  assert.match(auths[0]!, /mechanism=.SCRAM-SHA-1./);
  await c.stop();
});
