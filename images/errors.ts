/**
 * Typed errors of image metadata and its envelope. Each refusal has its own stable code,
 * so a cloud agent, the CLI and tests branch on the code and people read the message.
 */
import { CloudgateError } from '../core/index.js';

export type ImageErrorCode =
  | 'CG_IMAGE_METADATA'      // the metadata document is not valid (the message names the field)
  | 'CG_IMAGE_ENVELOPE'      // the envelope is not a well-formed DSSE envelope
  | 'CG_IMAGE_PAYLOAD_TYPE'  // the envelope claims a payload type other than the one expected
  | 'CG_IMAGE_TYPE_SWAPPED'  // a signature verifies only under another payload type
  | 'CG_IMAGE_TAMPERED'      // a trusted key's signature does not match the payload
  | 'CG_IMAGE_UNKNOWN_KEY'   // no signature is by a key in the keyring
  | 'CG_IMAGE_UNSIGNED'      // no signature at all (or no metadata)
  | 'CG_IMAGE_EXPIRED'       // valid_until has passed
  | 'CG_IMAGE_DEPRECATED'    // the endorser deprecated the image
  | 'CG_IMAGE_REFUSED'       // the site refuses this image or checksum
  | 'CG_IMAGE_MISMATCH'      // signed metadata describes another image
  | 'CG_IMAGE_KEY';          // a key or endorser file cannot be used

export class ImageError extends CloudgateError {
  constructor(override readonly code: ImageErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
