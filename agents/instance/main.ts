#!/usr/bin/env node
/**
 * What a VM (or the local and libvirt drivers) starts: `node dist/agents/instance/main.js`,
 * configured only by the environment:
 *
 *   CLOUDGATE_CONTEXT_FILE   context file (first source tried)
 *   CLOUDGATE_METADATA_URL   EC2-style user-data URL (default http://169.254.169.254/latest/user-data)
 *   CLOUDGATE_CONFIG_DRIVE   directory holding user-data (config drive, libvirt)
 *   CLOUDGATE_ROOT           directory system changes go under ('/' when unset)
 *   CLOUDGATE_INSTANCE_ID    the cloud's id of this instance
 *   CLOUDGATE_LOG_LEVEL      pino level (default info), logs on stderr
 *
 * Exit status: 0 after a Shutdown request or a signal (in a VM the service manager powers
 * off then), 2 when no context was found, 1 on any other failure to start. A context with
 * no [cloudgate] section is applied and the status says whether it applied (0) or not (1).
 */
import { createLogger } from '../../core/index.js';
import { stopOnSignals } from '../../core/index.js';
import { ContextNotFoundError } from './context/index.js';
import { NoIdentityError, startInstanceAgent } from './index.js';

const log = createLogger({ name: 'cloudgate-instance' });

const exitSoon = (code: number) => {
  // Let pino's asynchronous destination write the last lines first.
  log.flush?.();
  setTimeout(() => process.exit(code), 50);
};

try {
  const running = await startInstanceAgent({ log, onShutdown: () => exitSoon(0) });
  stopOnSignals(running, () => exitSoon(0));
} catch (err) {
  if (err instanceof NoIdentityError) {
    log.warn({ results: err.report.results }, err.message);
    exitSoon(err.report.ok ? 0 : 1);
  } else if (err instanceof ContextNotFoundError) {
    process.stderr.write(`cloudgate instance: ${err.message}\n`);
    exitSoon(2);
  } else {
    log.fatal({ err }, 'instance agent could not start');
    process.stderr.write(`cloudgate instance: ${(err as Error)?.message ?? String(err)}\n`);
    exitSoon(1);
  }
}
