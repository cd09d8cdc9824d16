/**
 * User-data as clouds hand it over: EC2 and OpenStack pass bytes through untouched, so
 * tools gzip contexts to fit the 16 KB limit and base64 them to survive text-only APIs.
 * Layers are peeled until text remains: gzip is recognised by its magic bytes (RFC 1952),
 * base64 only when the whole text is base64 and decodes to gzip or to a context — plain
 * text that merely looks like base64 is left alone.
 */
import { gunzipSync } from 'node:zlib';
import { ContextError } from './errors.js';
import { looksLikeContext } from './parse.js';

export type Encoding = 'gzip' | 'base64';
export interface DecodedUserData {
  text: string;
  encodings: Encoding[];
}

const MAX_LAYERS = 4;
const MAX_OUTPUT = 16 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

function utf8(b: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b).replace(/^\uFEFF/, '');
  } catch {
    return undefined;
  }
}

export function decodeUserData(data: Uint8Array): DecodedUserData {
  let buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const encodings: Encoding[] = [];
  for (let layer = 0; layer <= MAX_LAYERS; layer++) {
    if (isGzip(buf)) {
      try {
        buf = gunzipSync(buf, { maxOutputLength: MAX_OUTPUT });
      } catch (err) {
        throw new ContextError(
          'CG_CONTEXT_DECODE',
          `user-data looks gzipped but does not inflate: ${(err as Error).message}`,
          {},
          { cause: err },
        );
      }
      encodings.push('gzip');
      continue;
    }
    const text = utf8(buf);
    if (text === undefined)
      throw new ContextError('CG_CONTEXT_DECODE', 'user-data is neither UTF-8 text, gzip nor base64');
    const compact = text.replace(/\s+/g, '');
    if (compact.length > 0 && compact.length % 4 === 0 && BASE64.test(compact)) {
      const decoded = Buffer.from(compact, 'base64');
      const inner = isGzip(decoded) ? undefined : utf8(decoded);
      if (isGzip(decoded) || (inner !== undefined && looksLikeContext(inner))) {
        buf = decoded;
        encodings.push('base64');
        continue;
      }
    }
    return { text, encodings };
  }
  throw new ContextError('CG_CONTEXT_DECODE', `user-data is wrapped in more than ${MAX_LAYERS} gzip/base64 layers`);
}
