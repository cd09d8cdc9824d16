import { createServer, connect } from 'node:net';

/** A port the kernel says is free right now on `ip` (bind to 0, read it back, close). */
export function freePort(ip = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, ip, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves true if something already listens on ip:port. */
export function portInUse(port: number, ip = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true));
    s.listen(port, ip, () => s.close(() => resolve(false)));
  });
}

/** Resolves true once a TCP connection to ip:port succeeds. */
export function canConnect(port: number, ip = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: ip });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}
