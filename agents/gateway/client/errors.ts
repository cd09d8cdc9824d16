/**
 * The client's own errors, and the one mapping from any error to a process exit code,
 * shared by the CLI and the demo so "3" means "refused" everywhere.
 */
import { CloudgateError, ConfigError, ConnectionError, StoppedError } from '../../../core/index.js';
import { StanzaError, TimeoutError } from '../../../protocols/index.js';

/** The gateway is not online (no presence from it) or stopped answering. */
export class GatewayUnreachableError extends CloudgateError {
  constructor(message: string, options?: ErrorOptions) {
    super('CG_UNREACHABLE', message, options);
  }
}

/** A command line or option that cannot work (exit 2). */
export class UsageError extends CloudgateError {
  constructor(message: string) {
    super('CG_USAGE', message);
  }
}

/** The operation ran and did not succeed, e.g. a deployment that failed (exit 1). */
export class OperationFailedError extends CloudgateError {
  constructor(
    message: string,
    readonly detail?: unknown,
  ) {
    super('CG_FAILED', message);
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3, notFound: 4, unreachable: 5 } as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  the operation failed (e.g. the deployment failed, an internal error at the gateway)
  2  usage or configuration error (bad option, unreadable config, request rejected as invalid)
  3  refused (login refused, not authorized, forbidden, quota or capacity exhausted)
  4  not found (no such deployment, context, cluster or service)
  5  timeout or unreachable (server or gateway not answering, --wait timed out)`;

const REFUSED = new Set([
  'not-authorized',
  'forbidden',
  'not-allowed',
  'policy-violation',
  'resource-constraint',
  'payment-required',
]);
const UNREACHABLE = new Set([
  'service-unavailable',
  'recipient-unavailable',
  'remote-server-timeout',
  'remote-server-not-found',
]);
const INVALID = new Set(['bad-request', 'not-acceptable', 'jid-malformed']);

export function exitCodeFor(err: unknown): number {
  if (err instanceof StanzaError) {
    if (err.condition === 'item-not-found') return EXIT.notFound;
    // The gateway is there but has no such operation: an older or partial gateway.
    if (err.condition === 'feature-not-implemented' || err.app === 'unknown-payload') return EXIT.failed;
    if (REFUSED.has(err.condition)) return EXIT.refused;
    if (UNREACHABLE.has(err.condition)) return EXIT.unreachable;
    if (INVALID.has(err.condition)) return EXIT.usage;
    return EXIT.failed;
  }
  if (err instanceof TimeoutError || err instanceof GatewayUnreachableError || err instanceof StoppedError)
    return EXIT.unreachable;
  // A login the server refused is not going to work on retry; anything else is the network.
  if (err instanceof ConnectionError) return err.permanent ? EXIT.refused : EXIT.unreachable;
  if (err instanceof ConfigError || err instanceof UsageError) return EXIT.usage;
  if (err instanceof CloudgateError && (err.code === 'CG_USAGE' || err.code === 'CG_INVALID_JID')) return EXIT.usage;
  return EXIT.failed;
}

/** A one-line description for people: the gateway's message plus its condition. */
export function describeError(err: unknown): string {
  if (err instanceof StanzaError) return `${err.message} (${err.condition}${err.app ? `, ${err.app}` : ''})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A JSON document describing an error, for `--json` output. */
export function errorJson(err: unknown): Record<string, unknown> {
  const e = err as Partial<StanzaError> & Error;
  return {
    error: {
      code: (err as CloudgateError)?.code ?? 'CG_INTERNAL',
      message: e?.message ?? String(err),
      ...(err instanceof StanzaError ? { condition: err.condition, app: err.app } : {}),
      exit: exitCodeFor(err),
    },
  };
}
