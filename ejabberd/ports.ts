import { createServer, connect } from 'node:net';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { randomInt } from 'node:crypto';

/**
 * A port that is free right now on `ip`. Taken below the kernel's range for outgoing
 * connections when there is room: a port from that range can become the source port of
 * any outgoing connection between this check and the server binding it (with hundreds
 * of agents connecting, that happens), and then the server cannot listen on it.
 */
export async function freePort(ip = '127.0.0.1'): Promise<number> {
  const low = ephemeralLow();
  if (low !== undefined && low > 11_000) {
    for (let i = 0; i < 20; i++) {
      const p = randomInt(10_000, low);
      if (!(await portInUse(p, ip))) return p;
    }
  }
  return kernelPort(ip);
}

function ephemeralLow(): number | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : undefined;
  } catch {
    return undefined;
  }
}

/** Bind to 0, read the port back, close. */
function kernelPort(ip: string): Promise<number> {
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

/**
 * Whether the socket listening on `port` belongs to process `pid` (Linux /proc): a
 * connection succeeding proves only that something listens there. undefined when it
 * cannot be told (no /proc, or the process's descriptors cannot be read).
 */
export function listenerOwnedBy(pid: number, port: number): boolean | undefined {
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text: string;
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        // local_address is ADDR:PORT; state 0A is LISTEN; the inode is the tenth field.
        if (f.length > 9 && f[1].endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]);
      }
    }
    if (inodes.size === 0) return false;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1])) return true;
    }
    return false;
  } catch {
    return undefined;
  }
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
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
