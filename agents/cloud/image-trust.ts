/**
 * The cloud's image trust policy ([trust], [images] in its INI): which endorsers it
 * trusts, which endorsers, checksums and images it refuses, and whether an image without
 * signed metadata may boot. Signed metadata are DSSE envelopes in `[images] metadata_dir`,
 * one per generic image name (`<name>.json`); the file name says which image an envelope
 * is for, so nothing is parsed before its signature is checked. Files are read once at
 * start; the decision (images/trust.ts) is made at every request, so metadata expire on
 * time. This cloud's own flavor sizes are checked against the image's requirements too
 * (the gateway checks only its generic estimates). Without a [trust] section images are not checked, as before the policy existed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, type Logger } from '../../core/index.js';
import {
  decideTrust,
  endorsedBy,
  readEndorserFile,
  requirementProblem,
  type Endorser,
  type TrustPolicy,
} from '../../images/index.js';
import type { CloudConfig } from './config.js';
import type { Catalog } from './catalog.js';

const MAX_ENVELOPE = 1024 * 1024;

export interface ImageTrust {
  readonly policy: TrustPolicy;
  /**
   * A refusal reason naming the image and why, or undefined when it may boot; with the
   * flavor this cloud would use, also when that flavor is below the image's requirements.
   */
  check(image: string, flavor?: { name: string; cores: number; memoryMb: number }): string | undefined;
}

export function loadImageTrust(
  config: CloudConfig,
  log: Logger,
  now: () => Date = () => new Date(),
): ImageTrust | undefined {
  const t = config.raw.trust;
  if (!t) {
    if (config.raw.images)
      throw new ConfigError(`${config.file} [images] metadata_dir: needs a [trust] section saying whom to trust`);
    return undefined;
  }
  const at = (key: string) => `${config.file} [trust] ${key}`;
  const endorsers = new Map<string, Endorser>();
  for (const f of t.endorsers) {
    const file = isAbsolute(f) ? f : resolve(dirname(config.file), f);
    let e: Endorser;
    try {
      e = readEndorserFile(file);
    } catch (err) {
      throw new ConfigError(`${at('endorsers')}: ${(err as Error).message}`, { cause: err });
    }
    endorsers.set(e.keyid, e);
  }
  const hex = (key: string, v: string, lengths: number[]) => {
    const s = v.toLowerCase().replace(/^sha(256|512):/, '');
    if (!/^[0-9a-f]+$/.test(s) || !lengths.includes(s.length))
      throw new ConfigError(`${at(key)}: '${v}' is not ${lengths.map((n) => `${n}`).join(' or ')} hex digits`);
    return s;
  };
  const policy: TrustPolicy = Object.freeze({
    endorsers,
    refusedKeyids: new Set(t.refuse_endorsers.map((k) => hex('refuse_endorsers', k, [64]))),
    refusedChecksums: new Set(t.refuse_checksums.map((c) => hex('refuse_checksums', c, [64, 128]))),
    refusedImages: new Set(t.refuse_images),
    allowUnsigned: t.allow_unsigned,
  });
  const envelopes = readEnvelopes(config, log);
  log.info(
    {
      endorsers: [...endorsers.values()].map((e) => `${e.email} ${e.keyid.slice(0, 16)}`),
      metadata: [...envelopes.keys()],
      allowUnsigned: policy.allowUnsigned,
    },
    'image trust policy',
  );
  return Object.freeze({
    policy,
    check(image: string, flavor?: { name: string; cores: number; memoryMb: number }) {
      const d = decideTrust(image, envelopes.get(image), policy, now());
      if (!d.ok) {
        log.info({ image, code: d.code }, d.reason);
        // Discover carries at most 1024 characters of reason (an endorser's deprecation
        // text alone may be that long).
        return `${d.reason.length > 900 ? `${d.reason.slice(0, 899)}…` : d.reason} [${d.code}]`;
      }
      const short = flavor && d.metadata && requirementProblem(flavor.name, flavor, d.metadata);
      if (short) return `image '${image}' refused: ${short} on cloud ${config.name}`;
      log.debug({ image }, endorsedBy(d));
      return undefined;
    },
  });
}

function readEnvelopes(config: CloudConfig, log: Logger): Map<string, string> {
  const dir = config.raw.images?.metadata_dir;
  const out = new Map<string, string>();
  if (dir === undefined) return out;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new ConfigError(
      `${config.file} [images] metadata_dir: cannot read ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
    const file = join(dir, n);
    const size = statSync(file).size;
    if (size > MAX_ENVELOPE) {
      log.warn({ file, size }, 'image metadata file over 1 MiB: ignored');
      continue;
    }
    out.set(n.slice(0, -'.json'.length), readFileSync(file, 'utf8'));
  }
  return out;
}

/**
 * The catalog with the trust check added to its refusal reasons: Discover and Allocate
 * both ask catalog.check(), so an untrusted image is refused before anything is created
 * and the gateway places the service elsewhere.
 */
export function withImageTrust(catalog: Catalog, trust: ImageTrust | undefined): Catalog {
  if (!trust) return catalog;
  return Object.freeze({
    ...catalog,
    check(flavor: string, image: string) {
      const f = catalog.flavor(flavor);
      return (
        catalog.check(flavor, image) ?? trust.check(image, f && { name: flavor, cores: f.cores, memoryMb: f.memoryMb })
      );
    },
  });
}
