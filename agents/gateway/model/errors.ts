/**
 * Typed errors of the gateway model. Front ends (chat, IQ, HTTP) branch on `code` to pick
 * a reply or stanza error condition; messages are for humans and never contain secrets.
 */
import { CloudgateError } from '../../../core/index.js';

export class NotFoundError extends CloudgateError {
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super('CG_NOT_FOUND', `${entity} '${id}' not found`);
  }
}

/** A name already taken, or a row still referenced by others. */
export class ConflictError extends CloudgateError {
  constructor(message: string, options?: ErrorOptions) {
    super('CG_CONFLICT', message, options);
  }
}

/** A request that can never succeed as given (a bad name, a malformed value). */
export class InvalidError extends CloudgateError {
  /** `field` names the input at fault, when there is one (fronts show it: HTTP problem details). */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super('CG_INVALID', message);
  }
}

export class ForbiddenError extends CloudgateError {
  constructor(message: string) {
    super('CG_FORBIDDEN', message);
  }
}

export class IllegalTransitionError extends CloudgateError {
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly from: string,
    readonly to: string,
  ) {
    super('CG_ILLEGAL_TRANSITION', `${entity} '${id}' cannot go from ${from} to ${to}`);
  }
}

/** Wrong passphrase, or an envelope whose ciphertext, tag or header was altered: AES-GCM
 * cannot tell the two apart, and either way no plaintext is returned. */
export class PassphraseError extends CloudgateError {
  constructor(message = 'wrong passphrase, or the encrypted context was altered', options?: ErrorOptions) {
    super('CG_CONTEXT_PASSPHRASE', message, options);
  }
}

/** One thing wrong with a context body; `plugin` is the plugin whose section it is. */
export interface ContextProblem {
  plugin?: string;
  line?: number;
  section?: string;
  key?: string;
  message: string;
}

/** A context body that the instance agent would refuse; `problems` says where and why. */
export class ContextRejectedError extends CloudgateError {
  constructor(
    readonly problems: readonly ContextProblem[],
    format: (p: ContextProblem) => string,
  ) {
    super(
      'CG_CONTEXT_REJECTED',
      `context body: ${problems.length} problem(s):\n${problems.map((p) => `  ${format(p)}`).join('\n')}`,
    );
  }
}

/** An encrypted context was asked for without a passphrase. */
export class PassphraseRequiredError extends CloudgateError {
  constructor(message: string) {
    super('CG_CONTEXT_PASSPHRASE_REQUIRED', message);
  }
}

/** Not an encrypted context this code can read (bad magic, truncated, unknown version). */
export class EnvelopeError extends CloudgateError {
  constructor(message: string) {
    super('CG_CONTEXT_ENVELOPE', message);
  }
}

/** Why one cloud could not take (more of) a service. */
export interface CloudRefusal {
  readonly cloud: string;
  readonly reason: string;
}

/** Nothing (or not enough) fits; `refusals` says why, cloud by cloud. */
export class PlacementError extends CloudgateError {
  constructor(
    readonly service: string,
    readonly requested: number,
    readonly placeable: number,
    readonly refusals: readonly CloudRefusal[],
  ) {
    const why = refusals.length
      ? `: ${refusals.map((r) => `${r.cloud}: ${r.reason}`).join('; ')}`
      : ': no candidate clouds';
    super('CG_PLACEMENT', `cannot place ${requested} instance(s) of '${service}' (${placeable} fit)${why}`);
  }
}
