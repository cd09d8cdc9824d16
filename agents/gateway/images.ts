/**
 * The image metadata the gateway knows ([images] in its INI: envelopes verified against
 * its trusted endorsers, read at start) and what cluster definitions get from it: a
 * service may ask for an image by what it provides (`image = os:alma9,app:htcondor>=23`),
 * resolved to a name when the definition is stored, and a service whose flavor is below
 * its image's requirements is refused then, with both sides' numbers. Images the gateway
 * has no metadata for are left to the clouds. Envelopes published to the gateway
 * (image-publish.ts) join the registry at once and are kept in its metadata_dir.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ConfigInvalidError, type ConfigIssue, type Logger } from '../../core/index.js';
import {
  decideTrust,
  imageRef,
  isImageQuery,
  parseImageQuery,
  readEndorserFile,
  requirementProblem,
  selectImage,
  type Endorser,
  type ImageMetadata,
} from '../../images/index.js';
import { flavorName } from './allocator.js';
import { imagePublisher, type ImagePublish } from './image-publish.js';
import { flavorSize, type ClusterDef, type ServiceDef } from './model/index.js';

export interface ImageRegistry {
  /** What the registry holds now, one entry per generic name. */
  readonly images: readonly ImageMetadata[];
  /** `def` with image queries resolved to names; ConfigInvalidError listing every problem. */
  checkCluster(def: ClusterDef, file: string): ClusterDef;
  /** Adds or replaces the metadata of `m.name`; the one it replaced, if any. */
  add(m: ImageMetadata): ImageMetadata | undefined;
  /** Set when the registry was loaded from a directory: verifies and stores a published envelope (image-publish.ts). */
  readonly publish?: ImagePublish;
}

export function imageRegistry(initial: readonly ImageMetadata[], publish?: ImagePublish): ImageRegistry {
  const byName = new Map(initial.map((m) => [m.name, m]));
  const all = () => [...byName.values()];
  const known = () => all().map(imageRef).join(', ') || 'none';
  return Object.freeze({
    get images() {
      return all();
    },
    add(m: ImageMetadata) {
      const before = byName.get(m.name);
      byName.set(m.name, m);
      return before;
    },
    ...(publish ? { publish } : {}),
    checkCluster(def: ClusterDef, file: string): ClusterDef {
      const images = all();
      const issues: ConfigIssue[] = [];
      const services = def.services.map((s): ServiceDef => {
        const issue = (key: string, message: string) =>
          issues.push({ file, section: `service.${s.name}`, key, message });
        let m = byName.get(s.image);
        if (isImageQuery(s.image)) {
          try {
            m = selectImage(parseImageQuery(s.image), images);
            if (!m) issue('image', `no image known to the gateway matches '${s.image}' (known: ${known()})`);
          } catch (err) {
            issue('image', (err as Error).message);
          }
        }
        if (!m) return s;
        const problem = requirementProblem(flavorName(s.flavor), flavorSize(s.flavor), m);
        if (problem) issue('flavor', problem);
        return m.name === s.image ? s : { ...s, image: m.name };
      });
      if (issues.length > 0) throw new ConfigInvalidError(file, issues);
      return Object.freeze({ ...def, services: Object.freeze(services) });
    },
  });
}

/** Reads `<metadata_dir>/*.json` envelopes, keeping those its endorsers sign and that are valid now. */
export function loadImageRegistry(o: {
  endorsers: readonly string[];
  metadataDir: string;
  log: Logger;
  where: string;
  now?: Date;
}): ImageRegistry {
  const endorsers = new Map<string, Endorser>();
  for (const f of o.endorsers) {
    try {
      const e = readEndorserFile(f);
      endorsers.set(e.keyid, e);
    } catch (err) {
      throw new ConfigError(`${o.where} endorsers: ${(err as Error).message}`, { cause: err });
    }
  }
  let names: string[];
  try {
    names = readdirSync(o.metadataDir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch (err) {
    throw new ConfigError(
      `${o.where} metadata_dir: cannot read ${o.metadataDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const policy = {
    endorsers,
    refusedKeyids: new Set<string>(),
    refusedChecksums: new Set<string>(),
    refusedImages: new Set<string>(),
    allowUnsigned: false,
  };
  const images: ImageMetadata[] = [];
  const registry = (): ImageRegistry => {
    let r: ImageRegistry | undefined;
    const publish = imagePublisher({
      policy,
      dir: o.metadataDir,
      log: o.log,
      registry: () => r!,
      ...(o.now ? { now: () => o.now! } : {}),
    });
    r = imageRegistry(images, publish);
    return r;
  };
  for (const n of names) {
    const d = decideTrust(
      n.slice(0, -'.json'.length),
      readFileSync(join(o.metadataDir, n), 'utf8'),
      policy,
      o.now ?? new Date(),
      'this gateway',
    );
    if (d.ok && d.metadata) images.push(d.metadata);
    else if (!d.ok) o.log.warn({ file: n, code: d.code }, `image metadata not used: ${d.reason}`);
  }
  o.log.info({ images: images.map(imageRef) }, 'image metadata');
  return registry();
}
