/**
 * pino logging: one root per process, a child per agent, module and request
 * (`log.child({ module: 'quota' })`). Secrets are redacted by path wherever they appear.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

/** Keys whose values never reach a log line, at any of the depths listed. */
export const REDACT_KEYS = [
  'password', 'secret', 'token', 'jwt', 'key', 'accessKeyId', 'secretAccessKey', 'sessionToken',
  'credentials', 'passphrase', 'authorization', 'userData', 'cookie',
];

/** pino redact paths for `keys` at the depths listed. */
export function redactPaths(keys: readonly string[]): string[] {
  return [...new Set(keys)].flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
}

export interface LogOptions {
  level?: string; name?: string; destination?: string;
  /** Further keys to redact: a cloud agent gives every driver's secret option names. */
  secretKeys?: readonly string[];
}

export function createLogger(opts: LogOptions = {}): Logger {
  const options: LoggerOptions = {
    name: opts.name,
    level: opts.level ?? process.env.CLOUDGATE_LOG_LEVEL ?? 'info',
    redact: { paths: redactPaths([...REDACT_KEYS, ...(opts.secretKeys ?? [])]), censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (opts.destination) return pino(options, pino.destination({ dest: opts.destination, sync: false, mkdir: true }));
  return pino(options, pino.destination(2));
}

export type { Logger };
