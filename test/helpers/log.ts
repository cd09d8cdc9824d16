/** Loggers for tests: silent, or capturing every line (trace level) for assertions. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { REDACT_KEYS, redactPaths } from '../../core/index.js';
import { driverSecretKeys } from '../../drivers/index.js';

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  // Same redaction as a cloud agent's logger, so the test sees what production would write.
  const paths = redactPaths([...REDACT_KEYS, ...driverSecretKeys()]);
  return { log: pino({ level: 'trace', redact: { paths, censor: '[redacted]' } }, sink), lines };
}
