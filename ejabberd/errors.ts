import { CloudgateError } from '../errors/index.js';

/** ejabberd could not be prepared, started or stopped; `logTail` holds its last log lines. */
export class EjabberdError extends CloudgateError {
  constructor(
    message: string,
    readonly logTail: string = '',
    options?: ErrorOptions,
  ) {
    super('CG_EJABBERD', logTail ? `${message}\n--- ejabberd log (last lines) ---\n${logTail}` : message, options);
  }
}
