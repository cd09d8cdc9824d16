/**
 * A real moto server (local EC2-compatible API) on a free loopback port, the way nats.js
 * launches nats-server for its tests. start() waits until it answers; stop() always kills
 * it (SIGTERM, then SIGKILL), and a process 'exit' hook covers a test run that dies first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../ejabberd/index.js';

export interface Moto {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}

/** `env` adds variables for moto, e.g. INITIAL_NO_AUTH_ACTION_COUNT=0 to make it check credentials. */
export async function startMoto(env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr = (stderr + String(d)).slice(-4000);
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const stop = async () => {
    process.removeListener('exit', kill);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(kill, 3000);
    await exited(child);
    clearTimeout(timer);
  };
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const end = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}: ${stderr}`);
      if (await Promise.race([answers(endpoint), spawnError])) break;
      if (Date.now() > end) throw new Error(`moto did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, port, stop };
}
