/**
 * How a cloud's refusal reaches the requester: each CloudError kind becomes a stable
 * application condition of AllocateResult, with a message that names the problem. Driver
 * messages are not supposed to carry credentials; every text that leaves this agent still
 * goes through scrub(), so a provider that echoes a key in an error cannot leak it.
 */
import { scrubber } from '../../core/index.js';
import { CloudError, type CloudErrorKind } from '../../drivers/index.js';

/** AllocateResult conditions (protocols/cloud.ts). */
export type RefusalCondition =
  | 'not-in-acl'
  | 'quota-exceeded'
  | 'capacity'
  | 'cloud-refused'
  | 'invalid-field'
  | 'name-taken';

const BY_KIND: Record<CloudErrorKind, RefusalCondition> = {
  quota: 'quota-exceeded',
  capacity: 'capacity',
  auth: 'cloud-refused',
  'not-found': 'cloud-refused',
  invalid: 'cloud-refused',
  unavailable: 'cloud-refused',
};

export function refusalOf(err: unknown): { condition: RefusalCondition; message: string } {
  if (err instanceof CloudError)
    return { condition: BY_KIND[err.kind], message: `the cloud refused (${err.kind}): ${err.message}` };
  // Anything else is our bug or an unexpected failure: its text is not meant for users.
  return { condition: 'cloud-refused', message: 'the cloud call failed unexpectedly (see the cloud agent log)' };
}

export type Scrub = (text: string) => string;

/** Replaces every configured secret value in `text` by [redacted] (log lines are scrubbed by the logger itself). */
export { scrubber };
