/**
 * Generic flavors and images → the cloud's own. A flavor is named (flavor.small = m1.small,
 * by name or id) or sized (flavor.small = cores:2,memory:4096: the smallest flavor of the
 * cloud that holds it); an image is named by its Glance name or id. What the cloud offers
 * is read from Nova and Glance and kept for a minute, so a flavor added to the cloud is
 * seen without a restart and a create costs no extra calls.
 */
import type { Logger } from 'pino';
import { CloudError, type Flavor, type Image } from '../shared/index.js';
import type { OpenStackApi } from './api.js';
import type { FlavorSpec, OpenStackOptions } from './options.js';

const TTL_MS = 60_000;

interface NovaFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  'os-flavor-access:is_public'?: boolean;
}

export interface GlanceImage {
  id: string;
  name: string | null;
  status: string;
  checksum?: string | null;
  os_hash_algo?: string | null;
  os_hash_value?: string | null;
  size?: number | null;
  visibility?: string;
  disk_format?: string | null;
  updated_at?: string;
}

export interface ResolvedFlavor extends Flavor {
  cloudFlavorId: string;
}
export interface ResolvedImage extends Image {
  cloudImageId: string;
}

export class CloudCatalog {
  private flavorCache?: { at: number; list: ResolvedFlavor[] };
  private imageCache?: { at: number; list: ResolvedImage[] };

  constructor(
    private readonly api: OpenStackApi,
    private readonly o: OpenStackOptions,
    private readonly log: Logger,
  ) {}

  async flavors(): Promise<ResolvedFlavor[]> {
    if (this.flavorCache && Date.now() - this.flavorCache.at < TTL_MS) return this.flavorCache.list;
    const out = await this.api.call<{ flavors: NovaFlavor[] }>('compute', 'GET', '/flavors/detail');
    const cloud = out?.flavors ?? [];
    const list = this.o.flavors.flatMap((spec) => {
      const f = pickFlavor(spec, cloud);
      if (!f) {
        this.log.warn({ flavor: spec.id }, 'no flavor of the cloud matches this generic flavor; it is not offered');
        return [];
      }
      return [
        {
          id: spec.id,
          name: spec.id,
          cores: f.vcpus,
          memoryMb: f.ram,
          diskGb: f.disk,
          cloudFlavorId: f.id,
          extra: { cloudFlavorId: f.id, cloudFlavorName: f.name },
        },
      ];
    });
    this.flavorCache = { at: Date.now(), list };
    return list;
  }

  /** Every image the project can see in Glance, with its checksum and hash where Glance has them. */
  async glanceImages(): Promise<GlanceImage[]> {
    const all: GlanceImage[] = [];
    let path: string | undefined = `/v2/images?limit=${this.o.pageSize}`;
    while (path) {
      const page: { images: GlanceImage[]; next?: string } | undefined = await this.api.call('image', 'GET', path);
      all.push(...(page?.images ?? []));
      // Glance's `next` is a path with the marker, relative to the endpoint's root.
      path = page?.next && (page.images?.length ?? 0) > 0 ? page.next : undefined;
    }
    return all;
  }

  async images(): Promise<ResolvedImage[]> {
    if (this.imageCache && Date.now() - this.imageCache.at < TTL_MS) return this.imageCache.list;
    const glance = (await this.glanceImages()).filter((i) => i.status === 'active');
    const wanted: Array<[string, string]> =
      this.o.images.size > 0 ? [...this.o.images] : glance.filter((i) => i.name).map((i) => [i.name!, i.id]);
    const list = wanted.flatMap(([id, ref]) => {
      const g = glance.find((i) => i.id === ref) ?? glance.find((i) => i.name === ref);
      if (!g) {
        this.log.warn({ image: id }, 'no active Glance image matches this generic image; it is not offered');
        return [];
      }
      return [{ id, name: id, cloudImageId: g.id, extra: imageExtra(g) }];
    });
    this.imageCache = { at: Date.now(), list };
    return list;
  }

  async flavor(id: string): Promise<ResolvedFlavor> {
    const list = await this.flavors();
    const f = list.find((x) => x.id === id);
    if (!f) throw new CloudError('invalid', `unknown flavor "${id}" (known: ${list.map((x) => x.id).join(', ')})`);
    return f;
  }

  async image(id: string): Promise<ResolvedImage> {
    const list = await this.images();
    const i = list.find((x) => x.id === id);
    if (!i) throw new CloudError('invalid', `unknown image "${id}" (known: ${list.map((x) => x.id).join(', ')})`);
    return i;
  }
}

export function imageExtra(g: GlanceImage): Record<string, unknown> {
  const extra: Record<string, unknown> = {
    cloudImageId: g.id,
    cloudImageName: g.name ?? undefined,
    checksum: g.checksum ?? undefined,
    hashAlgorithm: g.os_hash_algo ?? undefined,
    hash: g.os_hash_value ?? undefined,
    size: g.size ?? undefined,
    visibility: g.visibility,
    diskFormat: g.disk_format ?? undefined,
  };
  for (const k of Object.keys(extra)) if (extra[k] === undefined) delete extra[k];
  return extra;
}

/** By id first, then name; a size takes the smallest flavor (cores, then memory, then disk) that holds it. */
function pickFlavor(spec: FlavorSpec, cloud: NovaFlavor[]): NovaFlavor | undefined {
  if (spec.kind === 'ref') return cloud.find((f) => f.id === spec.ref) ?? cloud.find((f) => f.name === spec.ref);
  return cloud
    .filter(
      (f) => f.vcpus >= spec.cores && f.ram >= spec.memoryMb && (spec.diskGb === undefined || f.disk >= spec.diskGb),
    )
    .sort((a, b) => a.vcpus - b.vcpus || a.ram - b.ram || a.disk - b.disk)[0];
}
