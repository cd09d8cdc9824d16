/**
 * The cloudgate image-metadata format, version 1: what an endorser states about one image
 * (after StratusLab's metadata and UNICORE's image repository). It is a JSON object; every
 * field is checked and an unknown field is an error, so a signed document means exactly
 * what the validator read. The payload type of its DSSE envelope is IMAGE_METADATA_TYPE.
 */
import { ImageError } from './errors.js';

export const IMAGE_METADATA_TYPE = 'application/vnd.cloudgate.image-metadata.v1+json';

export interface ProvidedApp {
  readonly name: string;
  readonly version: string;
}

export interface ImageMetadata {
  /** The generic image name clusters ask for (each cloud agent maps it to its own id). */
  readonly name: string;
  readonly version: string;
  readonly os: { readonly family: string; readonly version: string };
  readonly arch: string;
  /** Disk format: qcow2, raw, vmdk, vdi, iso, ami... */
  readonly format: string;
  readonly hypervisors: readonly string[];
  readonly provides: readonly ProvidedApp[];
  readonly requires: { readonly cores: number; readonly memory_mb: number; readonly disk_gb: number };
  /** Bytes. */
  readonly size: number;
  /** Lower-case hex. sha256 is required, sha512 optional. */
  readonly checksums: { readonly sha256: string; readonly sha512?: string };
  /** RFC 3339 times. */
  readonly created: string;
  readonly valid_until: string;
  readonly deprecated?: { readonly reason: string };
}

type Obj = Record<string, unknown>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const WORD = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function bad(field: string, problem: string): never {
  throw new ImageError('CG_IMAGE_METADATA', `image metadata: ${field}: ${problem}`);
}

function object(v: unknown, field: string, keys: readonly string[], optionalKeys: readonly string[] = []): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(field, 'expected an object');
  const o = v as Obj;
  for (const k of Object.keys(o))
    if (!keys.includes(k) && !optionalKeys.includes(k)) bad(field ? `${field}.${k}` : k, 'unknown field');
  for (const k of keys) if (o[k] === undefined) bad(field ? `${field}.${k}` : k, 'missing');
  return o;
}

function str(v: unknown, field: string, pattern: RegExp, what: string): string {
  if (typeof v !== 'string') bad(field, 'expected a string');
  if (!pattern.test(v)) bad(field, `'${v.slice(0, 80)}' is not ${what}`);
  return v;
}

function int(v: unknown, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(field, 'expected an integer');
  if (v < min) bad(field, `${v} is below ${min}`);
  return v;
}

function time(v: unknown, field: string): string {
  const s = str(v, field, RFC3339, 'an RFC 3339 time (2026-01-31T12:00:00Z)');
  if (Number.isNaN(Date.parse(s))) bad(field, `'${s}' is not a real date`);
  return s;
}

function words(v: unknown, field: string, min: number): string[] {
  if (!Array.isArray(v)) bad(field, 'expected a list');
  if (v.length < min) bad(field, `expected at least ${min} item(s)`);
  if (v.length > 64) bad(field, 'more than 64 items');
  return v.map((x, i) => str(x, `${field}[${i}]`, WORD, 'a word (letters, digits, . _ + -)'));
}

/** Validates a parsed document; the error names the first bad field. */
export function validateMetadata(doc: unknown): ImageMetadata {
  const o = object(
    doc,
    '',
    [
      'name',
      'version',
      'os',
      'arch',
      'format',
      'hypervisors',
      'provides',
      'requires',
      'size',
      'checksums',
      'created',
      'valid_until',
    ],
    ['deprecated'],
  );
  const os = object(o.os, 'os', ['family', 'version']);
  const req = object(o.requires, 'requires', ['cores', 'memory_mb', 'disk_gb']);
  const sums = object(o.checksums, 'checksums', ['sha256'], ['sha512']);
  if (!Array.isArray(o.provides)) bad('provides', 'expected a list');
  if (o.provides.length > 256) bad('provides', 'more than 256 items');
  const provides = o.provides.map((p, i) => {
    const a = object(p, `provides[${i}]`, ['name', 'version']);
    return Object.freeze({
      name: str(a.name, `provides[${i}].name`, WORD, 'a word'),
      version: str(a.version, `provides[${i}].version`, WORD, 'a version'),
    });
  });
  let deprecated: { reason: string } | undefined;
  if (o.deprecated !== undefined) {
    const d = object(o.deprecated, 'deprecated', ['reason']);
    if (typeof d.reason !== 'string' || d.reason.trim() === '' || d.reason.length > 1024)
      bad('deprecated.reason', 'expected a non-empty string of at most 1024 characters');
    deprecated = Object.freeze({ reason: d.reason });
  }
  const created = time(o.created, 'created');
  const validUntil = time(o.valid_until, 'valid_until');
  if (Date.parse(validUntil) <= Date.parse(created))
    bad('valid_until', `${validUntil} is not after created (${created})`);
  return Object.freeze({
    name: str(o.name, 'name', NAME, 'an image name (letters, digits, . _ -; at most 128)'),
    version: str(o.version, 'version', WORD, 'a version'),
    os: Object.freeze({
      family: str(os.family, 'os.family', WORD, 'a word'),
      version: str(os.version, 'os.version', WORD, 'a version'),
    }),
    arch: str(o.arch, 'arch', WORD, 'an architecture (x86_64, aarch64...)'),
    format: str(o.format, 'format', WORD, 'a disk format (qcow2, raw...)'),
    hypervisors: Object.freeze(words(o.hypervisors, 'hypervisors', 1)),
    provides: Object.freeze(provides),
    requires: Object.freeze({
      cores: int(req.cores, 'requires.cores', 1),
      memory_mb: int(req.memory_mb, 'requires.memory_mb', 1),
      disk_gb: int(req.disk_gb, 'requires.disk_gb', 0),
    }),
    size: int(o.size, 'size', 1),
    checksums: Object.freeze({
      sha256: str(sums.sha256, 'checksums.sha256', /^[0-9a-f]{64}$/, '64 lower-case hex digits'),
      ...(sums.sha512 === undefined
        ? {}
        : { sha512: str(sums.sha512, 'checksums.sha512', /^[0-9a-f]{128}$/, '128 lower-case hex digits') }),
    }),
    created,
    valid_until: validUntil,
    ...(deprecated ? { deprecated } : {}),
  });
}

/** Parses and validates the payload bytes of an envelope (call only after verifying it). */
export function parseMetadata(bytes: Uint8Array | string): ImageMetadata {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ImageError('CG_IMAGE_METADATA', `image metadata: not JSON (${(err as Error).message})`);
  }
  return validateMetadata(doc);
}

/** `name@version`, how policies and messages name one image. */
export const imageRef = (m: ImageMetadata): string => `${m.name}@${m.version}`;
