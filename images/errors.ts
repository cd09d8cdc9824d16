/**
 * Typed errors of image metadata and its envelope. Each refusal has its own stable code,
 * so a cloud agent, the CLI and tests branch on the code and people read the message.
 */
import { CloudgateError, type Code } from '../errors/index.js';

export type ImageErrorCode = Extract<Code, `CG_IMAGE_${string}`>;

export class ImageError extends CloudgateError {
  constructor(
    override readonly code: ImageErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}
