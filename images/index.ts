// The public face of images/: signed image metadata (format, DSSE envelope, endorser keys)
// and the trust decision a site makes from it. No XMPP here: clouds, the gateway and the
// CLI all use it.
export { ImageError, type ImageErrorCode } from './errors.js';
export {
  IMAGE_METADATA_TYPE,
  validateMetadata,
  parseMetadata,
  imageRef,
  type ImageMetadata,
  type ProvidedApp,
} from './format.js';
export {
  pae,
  decodeEnvelope,
  encodeEnvelope,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
  type Signature,
  type Verified,
} from './envelope.js';
export {
  ENDORSER_TYPE,
  keyIdOf,
  rawPublicKey,
  publicKeyFromRaw,
  generateEndorserKey,
  writePrivateKey,
  readPrivateKey,
  type Endorser,
} from './keys.js';
export { makeEndorserFile, parseEndorserFile, readEndorserFile, endorserLabel, type EndorserFile } from './endorser.js';
export { decideTrust, endorsedBy, type TrustPolicy, type TrustDecision } from './trust.js';
export { registerImageCommands } from './cli.js';
export {
  isImageQuery,
  parseImageQuery,
  selectImage,
  compareVersions,
  requirementProblem,
  type ImageTerm,
  type Size,
} from './select.js';
