import { CloudgateError, type Code } from '../../errors/index.js';

/** Why a cloud refused; stable across drivers so the cloud agent maps each to a stanza error. */
export type CloudErrorKind = 'quota' | 'capacity' | 'auth' | 'not-found' | 'invalid' | 'unavailable';

const CODE: Record<CloudErrorKind, Code> = {
  quota: 'CG_CLOUD_QUOTA',
  capacity: 'CG_CLOUD_CAPACITY',
  auth: 'CG_CLOUD_AUTH',
  'not-found': 'CG_CLOUD_NOT_FOUND',
  invalid: 'CG_CLOUD_INVALID',
  unavailable: 'CG_CLOUD_UNAVAILABLE',
};

/** A cloud refused or failed. Messages never contain credentials. */
export class CloudError extends CloudgateError {
  constructor(
    readonly kind: CloudErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(CODE[kind], message, options);
  }
}
