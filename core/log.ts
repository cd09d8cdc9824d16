/**
 * pino logging: one root per process, a child per agent, module and request
 * (`log.child({ module: 'quota' })`). Secrets are redacted by path wherever they appear.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

/** Keys whose values never reach a log line, at any of the depths listed. */
export const REDACT_KEYS = [
  'password',
  'secret',
  'token',
  'jwt',
  'key',
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  'credentials',
  'passphrase',
  'authorization',
  'userData',
  'cookie',
];

/** pino redact paths for `keys` at the depths listed. */
export function redactPaths(keys: readonly string[]): string[] {
  return [...new Set(keys)].flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
}

export interface LogOptions {
  level?: string;
  name?: string;
  destination?: string;
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

/** Replaces every one of `secrets` (credential values, 4 characters or more) in a text by [redacted]. */
export function scrubber(secrets: readonly string[]): (text: string) => string {
  const list = [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const s of list) out = out.split(s).join('[redacted]');
    return out;
  };
}

/**
 * A child of `log` (and so are its own children) whose lines never carry one of `secrets`:
 * redaction by key cannot catch a credential a provider echoes inside an error message, so
 * every string of a logged object, errors included, is scrubbed of the values themselves.
 */
export function withSecretsScrubbed(log: Logger, secrets: readonly string[]): Logger {
  const scrub = scrubber(secrets);
  const clean = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrub(v);
    if (depth > 6 || v === null || typeof v !== 'object') return v;
    if (v instanceof Error)
      return { type: v.name, message: scrub(v.message), stack: v.stack === undefined ? undefined : scrub(v.stack) };
    if (Array.isArray(v)) return v.map((x) => clean(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x, depth + 1)]));
  };
  return log.child({}, { formatters: { log: (obj) => clean(obj, 0) as Record<string, unknown> } });
}

export type { Logger };
