import { CloudgateError } from '../../core/index.js';

/**
 * Failures of the instance agent itself (not of a context's plugins, which are reported
 * per plugin). Stable codes for main.ts's exit status and for tests.
 */
export type InstanceErrorCode =
  | 'CG_INSTANCE_NO_IDENTITY' // the context has no usable [cloudgate] section (jid, token)
  | 'CG_INSTANCE_IDENTITY' // a newer context names another instance
  | 'CG_INSTANCE_PAIRING'; // the gateway refused or could not be reached for pairing

export class InstanceError extends CloudgateError {
  constructor(code: InstanceErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
