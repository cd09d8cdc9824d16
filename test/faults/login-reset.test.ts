/**
 * Found by the ejabberd-restart fault: an instance agent logging in while the server went
 * down died of an unhandled promise rejection (ECONNRESET) and its instance was lost. A
 * server that resets the connection in the middle of a login must cost a retry, never the
 * process. The server here is a bare TCP listener that resets every connection as soon as
 * the client speaks, as a server going down does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Connection, ConnectionError, createLogger } from '../../core/index.js';
import { listenLocal } from '../helpers/net.js';

async function resettingServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.once('data', () => s.resetAndDestroy());
  });
  return { server, port: await listenLocal(server) };
}

/** A client of the bare listener on `port`, retrying quickly. */
const clientOf = (port: number, maxStartAttempts: number) =>
  new Connection({
    kind: 'client',
    service: `xmpp://127.0.0.1:${port}`,
    domain: 'localhost',
    username: 'vm',
    password: 'token',
    resource: 'agent',
    log: createLogger({ level: 'silent' }),
    maxStartAttempts,
    backoff: { baseMs: 10, maxMs: 20 },
  });

test('a connection reset during the login is retried and then reported, never an unhandled rejection', {
  timeout: 20_000,
}, async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => {
    unhandled.push(err);
  };
  process.on('unhandledRejection', onUnhandled);
  const { server, port } = await resettingServer();
  try {
    const c = clientOf(port, 4);
    await assert.rejects(
      c.start(),
      (e: unknown) => e instanceof ConnectionError && !e.permanent && /ECONNRESET/.test(e.message),
    );
    // Rejections are reported after the microtask queue drains: give them a moment.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      unhandled.map((e) => (e as { code?: string }).code ?? String(e)),
      [],
    );
  } finally {
    process.off('unhandledRejection', onUnhandled);
    server.close();
  }
});

/** Opens the stream, closes it at once, then keeps writing on the still-open socket, as a server shutting down mid-login can. */
async function closingServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => {
      s.write(
        `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>`,
      );
      s.write('</stream:stream>');
      const more = setInterval(() => {
        if (!s.destroyed) s.write('<stream:features/>');
      }, 5);
      setTimeout(() => {
        clearInterval(more);
        s.destroy();
      }, 300);
    });
  });
  return { server, port: await listenLocal(server) };
}

test('bytes after the server closed the stream are dropped, never a crash of the process', {
  timeout: 20_000,
}, async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => {
    uncaught.push(err);
  };
  process.on('uncaughtException', onUncaught);
  const { server, port } = await closingServer();
  try {
    const c = clientOf(port, 3);
    await assert.rejects(c.start(), (e: unknown) => e instanceof ConnectionError && !e.permanent);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(
      uncaught.map((e) => String(e)),
      [],
    );
  } finally {
    process.off('uncaughtException', onUncaught);
    server.close();
  }
});
