/**
 * Errors carry a stable `code` (CG_*), so callers branch on codes, not messages, and a
 * `cause` through ErrorOptions. Errors that cross the wire live in protocols/errors.ts.
 */
export class CloudgateError extends Error {
  constructor(readonly code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Configuration could not be read or is invalid; the message names file, section and key. */
export class ConfigError extends CloudgateError {
  constructor(message: string, options?: ErrorOptions) {
    super('CG_CONFIG', message, options);
  }
}
