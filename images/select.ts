/**
 * Choosing images by what they are and provide (UNICORE's image repository): a query such
 * as `os:alma9,app:htcondor>=23,arch:x86_64` instead of a name, and the check that a
 * flavor meets an image's requirements. Pure functions over verified metadata.
 */
import { ImageError } from './errors.js';
import { imageRef, type ImageMetadata } from './format.js';

type Op = '=' | '>=' | '>' | '<=' | '<';
export type ImageTerm =
  | { readonly kind: 'os'; readonly value: string }
  | { readonly kind: 'arch'; readonly value: string }
  | { readonly kind: 'app'; readonly name: string; readonly op?: Op; readonly version?: string };

/** `os:`, `arch:` or `app:` terms, comma-separated. Anything else is an image name. */
export const isImageQuery = (text: string): boolean => /^\s*(os|app|arch):/.test(text);

export function parseImageQuery(text: string): readonly ImageTerm[] {
  const terms = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (terms.length === 0) throw new ImageError('CG_IMAGE_METADATA', `image query '${text}' has no term`);
  return Object.freeze(
    terms.map((t): ImageTerm => {
      const m = /^(os|arch|app):([A-Za-z0-9][A-Za-z0-9._+-]*?)(?:(>=|<=|=|>|<)([A-Za-z0-9][A-Za-z0-9._+-]*))?$/.exec(t);
      if (!m)
        throw new ImageError(
          'CG_IMAGE_METADATA',
          `image query term '${t}': expected os:<name>[<version>], arch:<name> or app:<name>[(=|>=|>|<=|<)<version>]`,
        );
      const [, kind, name, op, version] = m as unknown as [
        string,
        'os' | 'arch' | 'app',
        string,
        Op | undefined,
        string | undefined,
      ];
      if (kind !== 'app' && op)
        throw new ImageError('CG_IMAGE_METADATA', `image query term '${t}': only app: terms compare versions`);
      return kind === 'app'
        ? Object.freeze({ kind, name: name.toLowerCase(), ...(op ? { op, version } : {}) })
        : Object.freeze({ kind, value: name.toLowerCase() });
    }),
  );
}

/** Dotted versions compared part by part, numerically where both parts are numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const d = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** `app:htcondor>=23` holds for 23.0.4: a version compares on the parts it names. */
function versionHolds(have: string, op: Op, want: string): boolean {
  const parts = want.split('.').length;
  const c = compareVersions(have.split('.').slice(0, parts).join('.'), want);
  return op === '=' ? c === 0 : op === '>=' ? c >= 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c < 0;
}

function matches(m: ImageMetadata, t: ImageTerm): boolean {
  switch (t.kind) {
    case 'os': {
      const f = m.os.family.toLowerCase();
      const v = m.os.version.toLowerCase();
      return [f, `${f}${v}`, `${f}-${v}`, `${f}${v.split('.')[0]}`].includes(t.value);
    }
    case 'arch':
      return m.arch.toLowerCase() === t.value;
    case 'app':
      return m.provides.some(
        (p) => p.name.toLowerCase() === t.name && (!t.op || versionHolds(p.version, t.op, t.version!)),
      );
  }
}

/**
 * The image every term matches; among several, the one providing the newest of the
 * queried applications, then the newest version, then the latest created. Undefined when
 * none matches.
 */
export function selectImage(terms: readonly ImageTerm[], images: readonly ImageMetadata[]): ImageMetadata | undefined {
  const fit = images.filter((m) => terms.every((t) => matches(m, t)));
  const appVersion = (m: ImageMetadata) =>
    terms
      .filter((t) => t.kind === 'app')
      .map((t) => m.provides.find((p) => p.name.toLowerCase() === (t as { name: string }).name)!.version);
  return fit.sort((a, b) => {
    const va = appVersion(a);
    const vb = appVersion(b);
    for (let i = 0; i < va.length; i++) {
      const c = compareVersions(vb[i]!, va[i]!);
      if (c !== 0) return c;
    }
    return compareVersions(b.version, a.version) || b.created.localeCompare(a.created) || a.name.localeCompare(b.name);
  })[0];
}

export interface Size {
  readonly cores: number;
  readonly memoryMb: number;
  readonly diskGb?: number;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** A problem naming both sides' numbers when `size` is below the image's requirements. */
export function requirementProblem(flavorName: string, size: Size, m: ImageMetadata): string | undefined {
  const r = m.requires;
  const short =
    size.cores < r.cores || size.memoryMb < r.memory_mb || (size.diskGb !== undefined && size.diskGb < r.disk_gb);
  if (!short) return undefined;
  const have = `${plural(size.cores, 'core')}, ${size.memoryMb} MB${size.diskGb === undefined ? '' : `, ${size.diskGb} GB disk`}`;
  const need = `${plural(r.cores, 'core')}, ${r.memory_mb} MB${size.diskGb === undefined ? '' : `, ${r.disk_gb} GB disk`}`;
  return `flavor ${flavorName} (${have}) is below what image ${imageRef(m)} requires (${need})`;
}
