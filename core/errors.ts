/**
 * Errors carry a stable `code` (CG_*, registered in errors/codes.ts), so callers branch on
 * codes, not messages, and a `cause` through ErrorOptions. The base class lives in errors/,
 * which imports nothing of the project; errors that cross the wire live in protocols/errors.ts.
 */
import { CloudgateError } from '../errors/index.js';

export { CloudgateError };

/** Configuration could not be read or is invalid; the message names file, section and key. */
export class ConfigError extends CloudgateError {
  constructor(message: string, options?: ErrorOptions) {
    super('CG_CONFIG', message, options);
  }
}

/**
 * A stanza larger than the server accepts (ejabberd `max_stanza_size`). ejabberd answers
 * one with a policy-violation stream error and closes the stream, losing the session
 * and every stanza not yet acknowledged, so it is refused here before it is written.
 */
export class StanzaTooLargeError extends CloudgateError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      'CG_STANZA_TOO_LARGE',
      `stanza of ${bytes} bytes is over the server's limit of ${limit} bytes (max_stanza_size): not sent`,
    );
  }
}

/** The UTF-8 size of `s` if it is over `limit` bytes, else 0 (cheap for small stanzas). */
export function overLimit(s: string, limit: number): number {
  if (s.length * 3 <= limit) return 0;
  const bytes = Buffer.byteLength(s, 'utf8');
  return bytes > limit ? bytes : 0;
}
