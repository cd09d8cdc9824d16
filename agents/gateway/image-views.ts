/** The image registry as the fronts show it: metadata in short, and which clouds have each image. */
import { imageRef, type ImageMetadata } from '../../images/index.js';
import type { Clouds } from './clouds.js';
import type { ImageView } from './wire.js';

export type { ImageView };

/** `clouds`: the online clouds whose presence lists the generic name (their own mapping of it). */
export function imageViews(images: readonly ImageMetadata[], clouds: Clouds): ImageView[] {
  const online = clouds.list().filter((c) => c.online);
  return [...images]
    .sort((a, b) => imageRef(a).localeCompare(imageRef(b)))
    .map((m) => ({
      name: m.name,
      version: m.version,
      os: `${m.os.family} ${m.os.version}`,
      arch: m.arch,
      format: m.format,
      provides: m.provides.map((p) => `${p.name} ${p.version}`),
      cores: m.requires.cores,
      memory_mb: m.requires.memory_mb,
      disk_gb: m.requires.disk_gb,
      sha256: m.checksums.sha256,
      valid_until: m.valid_until,
      ...(m.deprecated ? { deprecated: m.deprecated.reason } : {}),
      clouds: online.filter((c) => c.data?.images.includes(m.name)).map((c) => c.name),
    }));
}
