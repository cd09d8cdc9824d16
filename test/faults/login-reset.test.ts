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

async function resettingServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => { s.once('data', () => s.resetAndDestroy()); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

test('a connection reset during the login is retried and then reported, never an unhandled rejection', { timeout: 20_000 }, async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => { unhandled.push(err); };
  process.on('unhandledRejection', onUnhandled);
  const { server, port } = await resettingServer();
  try {
    const c = new Connection({
      kind: 'client', service: `xmpp://127.0.0.1:${port}`, domain: 'localhost', username: 'vm', password: 'token', resource: 'agent',
      log: createLogger({ level: 'silent' }), maxStartAttempts: 4, backoff: { baseMs: 10, maxMs: 20 },
    });
    await assert.rejects(c.start(), (e: unknown) => e instanceof ConnectionError && !e.permanent && /ECONNRESET/.test(e.message));
    // Rejections are reported after the microtask queue drains: give them a moment.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(unhandled.map((e) => (e as { code?: string }).code ?? String(e)), []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    server.close();
  }
});
