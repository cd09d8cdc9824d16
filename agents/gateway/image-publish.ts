/**
 * Publishing signed image metadata to the gateway's registry (`cloudgate image publish`):
 * the envelope is verified against the endorsers the gateway trusts ([images] endorsers)
 * before its payload is parsed, and refused with the same reasons and codes a cloud agent
 * gives (unsigned, unknown key, tampered, swapped payload type, expired, deprecated). Once
 * accepted it joins the registry at once — cluster definitions stored from then on are
 * checked against its requirements and may ask for it by what it provides — and is
 * written to `<metadata_dir>/<name>.json`, where the registry is read from at start.
 * Trust comes from the endorsers' signatures, not from who sends the envelope.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../core/index.js';
import { decideTrust, imageRef, type Endorser, type ImageMetadata, type TrustPolicy } from '../../images/index.js';
import { StanzaError } from '../../protocols/index.js';
import type { ImageRegistry } from './images.js';

export interface PublishedImage {
  readonly metadata: ImageMetadata;
  readonly endorsers: readonly Endorser[];
  /** `name@version` of the metadata it replaced. */
  readonly replaced?: string;
}
export type ImagePublish = (publisher: string, envelope: string) => PublishedImage;

export function imagePublisher(o: {
  policy: TrustPolicy;
  dir: string;
  log: Logger;
  registry: () => ImageRegistry;
  now?: () => Date;
}): ImagePublish {
  return (publisher, envelope) => {
    const d = decideTrust(undefined, envelope, o.policy, (o.now ?? (() => new Date()))(), 'this gateway');
    if (!d.ok) {
      o.log.info({ publisher, code: d.code }, `image metadata not published: ${d.reason}`);
      throw new StanzaError('not-acceptable', `${d.reason} [${d.code}]`);
    }
    const m = d.metadata!;
    // The name passed the format's check (letters, digits, . _ -), so it is a file name.
    const file = join(o.dir, `${m.name}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, envelope, { mode: 0o644 });
    renameSync(tmp, file);
    const before = o.registry().add(m);
    o.log.info(
      {
        publisher,
        image: imageRef(m),
        endorsers: d.endorsers.map((e) => e.keyid),
        ...(before ? { replaced: imageRef(before) } : {}),
      },
      'image metadata published',
    );
    return { metadata: m, endorsers: d.endorsers, ...(before ? { replaced: imageRef(before) } : {}) };
  };
}
