/**
 * A site's trust policy for images (StratusLab kept allow and deny lists of endorsers,
 * checksums and images) and the one decision made from it: may an image with this signed
 * metadata boot here? Pure: the caller supplies the envelope text and the time.
 */
import type { KeyObject } from 'node:crypto';
import { ImageError, type ImageErrorCode } from './errors.js';
import { decodeEnvelope, verifyEnvelope } from './envelope.js';
import { ENDORSER_TYPE, type Endorser } from './keys.js';
import { endorserLabel } from './endorser.js';
import { IMAGE_METADATA_TYPE, imageRef, parseMetadata, type ImageMetadata } from './format.js';

export interface TrustPolicy {
  /** Trusted endorsers by key id. */
  readonly endorsers: ReadonlyMap<string, Endorser>;
  /** Key ids refused even when listed as trusted (a revoked endorser). */
  readonly refusedKeyids: ReadonlySet<string>;
  /** Lower-case hex sha256 or sha512 values. */
  readonly refusedChecksums: ReadonlySet<string>;
  /** Image names, or `name@version`. */
  readonly refusedImages: ReadonlySet<string>;
  /** Whether an image without metadata may boot. */
  readonly allowUnsigned: boolean;
}

export type TrustDecision =
  | { readonly ok: true; readonly metadata?: ImageMetadata; readonly endorsers: readonly Endorser[] }
  | { readonly ok: false; readonly code: ImageErrorCode; readonly reason: string };

/**
 * `image` is the generic name asked for (undefined: whatever the metadata names);
 * `envelope` the text of its metadata envelope, or undefined when the site has none. The
 * reason of a refusal names the image and why; `site` is who decides, as the reason says it.
 */
export function decideTrust(
  image: string | undefined,
  envelope: string | undefined,
  policy: TrustPolicy,
  now: Date,
  site = 'this cloud',
): TrustDecision {
  const no = (code: ImageErrorCode, why: string): TrustDecision => ({
    ok: false,
    code,
    reason: `image${image === undefined ? '' : ` '${image}'`} refused: ${why}`,
  });
  if (image !== undefined && policy.refusedImages.has(image))
    return no('CG_IMAGE_REFUSED', `${site} refuses the image`);
  if (envelope === undefined) {
    return policy.allowUnsigned
      ? { ok: true, endorsers: [] }
      : no('CG_IMAGE_UNSIGNED', 'no signed metadata (unsigned images are not allowed here)');
  }
  const keyring = new Map<string, KeyObject>();
  for (const [id, e] of policy.endorsers) if (!policy.refusedKeyids.has(id)) keyring.set(id, e.publicKey);
  let metadata: ImageMetadata;
  let signers: Endorser[];
  try {
    const env = decodeEnvelope(envelope);
    const v = verifyEnvelope(env, keyring, IMAGE_METADATA_TYPE, [ENDORSER_TYPE]);
    signers = v.keyids.map((k) => policy.endorsers.get(k)!);
    metadata = parseMetadata(v.payload);
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    const why: Partial<Record<ImageErrorCode, string>> = {
      CG_IMAGE_UNKNOWN_KEY: `signed by no endorser ${site} trusts (${err.message})`,
      CG_IMAGE_UNSIGNED: 'its metadata carries no signature',
    };
    return no(err.code as ImageErrorCode, why[err.code as ImageErrorCode] ?? err.message);
  }
  if (image === undefined && policy.refusedImages.has(metadata.name))
    return no('CG_IMAGE_REFUSED', `${site} refuses ${metadata.name}`);
  if (image !== undefined && metadata.name !== image)
    return no('CG_IMAGE_MISMATCH', `the signed metadata describes '${metadata.name}'`);
  if (policy.refusedImages.has(imageRef(metadata)))
    return no('CG_IMAGE_REFUSED', `${site} refuses ${imageRef(metadata)}`);
  const sum = [metadata.checksums.sha256, metadata.checksums.sha512].find(
    (s) => s !== undefined && policy.refusedChecksums.has(s),
  );
  if (sum) return no('CG_IMAGE_REFUSED', `${site} refuses its checksum ${sum.slice(0, 16)}…`);
  if (Date.parse(metadata.valid_until) <= now.getTime())
    return no('CG_IMAGE_EXPIRED', `metadata expired at ${metadata.valid_until}`);
  if (metadata.deprecated)
    return no('CG_IMAGE_DEPRECATED', `deprecated by its endorser: ${metadata.deprecated.reason}`);
  return { ok: true, metadata, endorsers: signers };
}

/** One line for people: who endorsed an accepted image. */
export const endorsedBy = (d: TrustDecision): string =>
  d.ok
    ? d.endorsers.length
      ? `endorsed by ${d.endorsers.map(endorserLabel).join(', ')}`
      : 'unsigned (allowed)'
    : d.reason;
