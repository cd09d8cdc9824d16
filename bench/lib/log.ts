/**
 * The agents a benchmark starts log here: lines are counted by message (how many logins
 * were retried, how many warnings a thousand agents gave), and only errors reach stderr,
 * the first few of each kind, so a storm cannot bury the progress lines. Secrets are
 * redacted as by core's own logger. CLOUDGATE_LOG_LEVEL lowers the level for debugging.
 */
import { pino, type Logger } from 'pino';
import { REDACT_KEYS } from '../../core/index.js';

export interface CountingLog {
  log: Logger;
  /** Lines per message text. */
  counts: Map<string, number>;
}

const ECHO_EACH = 3;
const ERROR_LEVEL = 50;

export function countingLogger(level = process.env.CLOUDGATE_LOG_LEVEL ?? 'warn'): CountingLog {
  const counts = new Map<string, number>();
  const verbose = process.env.CLOUDGATE_LOG_LEVEL !== undefined;
  const stream = {
    write(line: string) {
      let rec: { msg?: string; level?: number };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        rec = { msg: line.slice(0, 80) };
      }
      const msg = rec.msg ?? '';
      const n = (counts.get(msg) ?? 0) + 1;
      counts.set(msg, n);
      if (verbose || ((rec.level ?? 0) >= ERROR_LEVEL && n <= ECHO_EACH)) process.stderr.write(line);
    },
  };
  const paths = REDACT_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  return { log: pino({ level, redact: { paths, censor: '[redacted]' } }, stream), counts };
}

/** Counts as a plain object, most frequent first (for the JSON result). */
export function topCounts(counts: Map<string, number>, max = 10): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).slice(0, max));
}
