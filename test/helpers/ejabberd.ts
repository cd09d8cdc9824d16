/**
 * Each integration test (or suite) gets its own real ejabberd: free ports, a temp dir,
 * its own node name; stopped and removed in after(), and killed on process exit even
 * when a test throws.
 *
 * Test servers take the operator's JWT key on the main host (`operatorJwt`), so tests
 * mint throw-away identities without registering accounts. Only the test helpers do so:
 * the demo, the benchmarks' deployments and `cloudgate ejabberd start` leave it off.
 * Tests of that hardening pass `{ operatorJwt: false }`.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { EjabberdServer, EjabberdError, type ServerOptions } from '../../ejabberd/index.js';

export interface TestServer {
  server: EjabberdServer;
  host: string;
  service: string;
  ca: string;
  /** Stops the server and removes its directory (suites call it from their after()). */
  stop(): Promise<void>;
  /** Registers a user with a password (internal store). */
  register(user: string, password: string): Promise<string>;
}

/**
 * Inside a test() body the server is stopped after that test. Inside a before() hook
 * node:test would run an after() registered there right after the hook, so suites pass
 * `{ cleanup: false }` and call `stop()` from their own after().
 */
export async function startEjabberd(opts: Partial<ServerOptions> = {}, { cleanup = true } = {}): Promise<TestServer> {
  let lastErr: unknown;
  // Free ports are picked before the server binds them; a parallel test can take one in
  // between, so a clash is retried with fresh ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'cgt-ejabberd-'));
    // Test agents log in under many names: every account of the test hosts may create
    // PubSub nodes unless a test names its agents (the restriction's own tests do).
    const agents = [opts.host ?? 'localhost', ...(opts.extraHosts ?? []).map((h) => h.name)];
    const server = await EjabberdServer.prepare({ dir, logLevel: 'warning', operatorJwt: true, agents, ...opts });
    try {
      await server.start();
    } catch (err) {
      lastErr = err;
      await server.stop().catch(() => {});
      server.remove();
      if (err instanceof EjabberdError && /in use|eaddrinuse/i.test(err.message)) continue;
      throw err;
    }
    const stop = async () => {
      await server.stop();
      server.remove();
    };
    if (cleanup) after(stop);
    const host = server.info.host;
    return {
      server,
      stop,
      host,
      service: `xmpp://${server.info.ip}:${server.info.c2sPort}`,
      ca: readFileSync(server.info.certFile, 'utf8'),
      async register(user: string, password: string) {
        await server.register(user, host, password);
        return `${user}@${host}`;
      },
    };
  }
  throw lastErr;
}
