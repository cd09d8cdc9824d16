#!/usr/bin/env node
/**
 * `npm start`: the whole system on one machine (see demo.ts). Settings, all optional:
 *
 *   CLOUDGATE_DEMO_DIR             where everything lives (default var/demo in the repository)
 *   CLOUDGATE_DEMO_C2S_PORT        XMPP client port (default 15222; 0 = any free port)
 *   CLOUDGATE_DEMO_COMPONENT_PORT  XMPP component port (default 15347; 0 = any free port)
 *   CLOUDGATE_DEMO_READY_TIMEOUT   seconds to wait for the cluster to be ready (default 300)
 *   CLOUDGATE_DEMO_EXIT_WHEN_READY 1: stop everything and exit 0 once the cluster is ready
 *
 * Exit status: 0 after Ctrl-C / SIGTERM (or when ready, with EXIT_WHEN_READY), otherwise
 * the client exit codes (1 failed, 2 configuration, 3 refused, 5 timeout/unreachable).
 * A second Ctrl-C stops at once, killing what is left.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDemo } from './demo.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const env = process.env;

function port(name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`cloudgate demo: ${name} must be a port number (0 for any free port), got '${v}'\n`);
    process.exit(2);
  }
  return n;
}

const ready = Number(env.CLOUDGATE_DEMO_READY_TIMEOUT ?? 300);
const stop = new AbortController();
let signals = 0;
const onSignal = (sig: NodeJS.Signals) => {
  signals++;
  if (signals > 1) {
    process.stderr.write(`cloudgate demo: ${sig} again, stopping at once\n`);
    process.exit(130); // exit hooks kill the agents and ejabberd
  }
  process.stdout.write(`\ncloudgate demo: ${sig}, stopping everything (again to force)\n`);
  stop.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await runDemo({
  root,
  dir: resolve(env.CLOUDGATE_DEMO_DIR || resolve(root, 'var', 'demo')),
  c2sPort: port('CLOUDGATE_DEMO_C2S_PORT', 15222),
  componentPort: port('CLOUDGATE_DEMO_COMPONENT_PORT', 15347),
  httpPort: port('CLOUDGATE_DEMO_HTTP_PORT', 8443),
  exitWhenReady: env.CLOUDGATE_DEMO_EXIT_WHEN_READY === '1',
  readyTimeoutMs: (Number.isFinite(ready) && ready > 0 ? ready : 300) * 1000,
  out: process.stdout,
  stop: stop.signal,
});
process.exit(code);
