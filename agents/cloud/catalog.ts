/**
 * Generic flavor and image names (what clusters ask for: "medium", "cernvm-4") mapped to
 * this cloud's own ids, with each flavor's size for quota accounting. Built once at start
 * from the configuration and the driver's lists, so a mapping that names a flavor or an
 * image the driver does not offer fails at start-up, not at the first request.
 */
import { ConfigError } from '../../core/index.js';
import type { CloudDriver } from '../../drivers/index.js';
import type { CloudConfig } from './config.js';

export interface FlavorEntry {
  generic: string;
  id: string;
  cores: number;
  memoryMb: number;
}
export interface ImageEntry {
  generic: string;
  id: string;
}

export interface Catalog {
  readonly flavors: readonly FlavorEntry[];
  readonly images: readonly ImageEntry[];
  flavor(generic: string): FlavorEntry | undefined;
  image(generic: string): ImageEntry | undefined;
  /** A refusal reason for unknown names, or undefined when both are mapped. */
  check(flavor: string, image: string): string | undefined;
}

export async function buildCatalog(config: CloudConfig, driver: CloudDriver): Promise<Catalog> {
  const driverFlavors = await driver.listFlavors();
  const driverImages = await driver.listImages();
  const where = (s: string) => `${config.file} [${s}] id`;

  // Without any [flavor.*] / [image.*] section the driver's own names are offered as they are.
  const flavorMap: CloudConfig['flavors'] =
    config.flavors.size > 0 ? config.flavors : new Map(driverFlavors.map((f) => [f.id, { id: f.id }]));
  const flavors = [...flavorMap].map(([generic, m]): FlavorEntry => {
    const f = driverFlavors.find((x) => x.id === m.id);
    if (!f) {
      throw new ConfigError(
        `${where(`flavor.${generic}`)}: the ${config.driver} driver has no flavor '${m.id}' (it has: ${driverFlavors.map((x) => x.id).join(', ')})`,
      );
    }
    return Object.freeze({ generic, id: m.id, cores: m.cores ?? f.cores, memoryMb: m.memoryMb ?? f.memoryMb });
  });
  const imageMap = config.images.size > 0 ? config.images : new Map(driverImages.map((i) => [i.id, i.id]));
  const images = [...imageMap].map(([generic, id]): ImageEntry => {
    if (!driverImages.some((x) => x.id === id)) {
      throw new ConfigError(
        `${where(`image.${generic}`)}: the ${config.driver} driver has no image '${id}' (it has: ${driverImages.map((x) => x.id).join(', ')})`,
      );
    }
    return Object.freeze({ generic, id });
  });

  // A custom size ("cores:2,memory:4096", as cluster definitions may ask) gets the
  // smallest mapped flavor that holds it, so clusters need not know this cloud's names.
  const bySize = [...flavors].sort((a, b) => a.cores - b.cores || a.memoryMb - b.memoryMb);
  const lookup = (g: string): FlavorEntry | undefined => {
    const named = flavors.find((f) => f.generic === g);
    if (named) return named;
    const m = /^cores:(\d+),\s*memory:(\d+)$/.exec(g.trim());
    if (!m) return undefined;
    const fit = bySize.find((f) => f.cores >= Number(m[1]) && f.memoryMb >= Number(m[2]));
    return fit && Object.freeze({ ...fit, generic: g });
  };

  return Object.freeze({
    flavors: Object.freeze(flavors),
    images: Object.freeze(images),
    flavor: lookup,
    image: (g: string) => images.find((i) => i.generic === g),
    check(flavor: string, image: string) {
      if (!flavor.startsWith('cores:') && !flavors.some((f) => f.generic === flavor))
        return `unknown flavor '${flavor}' (cloud ${config.name} offers: ${flavors.map((f) => f.generic).join(', ')})`;
      if (!lookup(flavor))
        return `no flavor of cloud ${config.name} is large enough for '${flavor}' (largest: ${bySize.at(-1)?.generic ?? 'none'})`;
      if (!images.some((i) => i.generic === image))
        return `unknown image '${image}' (cloud ${config.name} offers: ${images.map((i) => i.generic).join(', ')})`;
      return undefined;
    },
  });
}
