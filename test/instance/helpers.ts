/** Shared bits for the context tests: throwaway roots and a local HTTP server. */
import { mkdtempSync, rmSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { listenLocal } from '../helpers/net.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A fresh directory removed when the test ends. */
export function tempRoot(t: TestContext, prefix = 'cg-ctx-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const read = (root: string, p: string): string => readFileSync(join(root, p), 'utf8');
export const mode = (root: string, p: string): number => statSync(join(root, p)).mode & 0o7777;

/** A real HTTP server on 127.0.0.1 with a free port, closed when the test ends. */
export async function serve(
  t: TestContext,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  const port = await listenLocal(server);
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${port}`, server };
}

/** A port nothing listens on (bound, then released), for "refused" cases. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listenLocal(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
