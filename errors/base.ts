/**
 * The base of every cloudgate error: a stable `code` (CG_*, registered in codes.ts) that
 * callers branch on instead of messages, and a `cause` through ErrorOptions (after
 * fastify lib/errors.js and nats.js core/src/errors.ts). This folder imports nothing of
 * the project, so every other folder, core and protocols included, can build on it
 * without an import cycle.
 */
import type { Code } from './codes.js';

export class CloudgateError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
