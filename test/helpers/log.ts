/** Loggers for tests: silent, or capturing every line (trace level) for assertions. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { REDACT_KEYS } from '../../core/log.js';

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
  // Same redaction as core/log.ts, so the test sees what production would write.
  const paths = REDACT_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  return { log: pino({ level: 'trace', redact: { paths, censor: '[redacted]' } }, sink), lines };
}
