import { CloudgateError } from '../../core/index.js';

/** Why a cloud refused; stable across drivers so the cloud agent maps each to a stanza error. */
export type CloudErrorKind = 'quota' | 'capacity' | 'auth' | 'not-found' | 'invalid' | 'unavailable';

/** A cloud refused or failed. Messages never contain credentials. */
export class CloudError extends CloudgateError {
  constructor(readonly kind: CloudErrorKind, message: string, options?: ErrorOptions) {
    super(`CG_CLOUD_${kind.toUpperCase().replace('-', '_')}`, message, options);
  }
}
