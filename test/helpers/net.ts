/** Plain TCP listeners for tests. */
import type { Server } from 'node:net';

/** Listens on a free loopback port (the kernel's choice) and resolves with it. */
export async function listenLocal(server: Pick<Server, 'listen' | 'address'>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}
