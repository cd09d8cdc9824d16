/**
 * The web pages' static files (web/): read once, each named in pages by a URL that carries
 * a hash of its content. A browser keeps a file fetched at its current URL for a year and
 * does not ask again, so a phone fetches the stylesheet and scripts once, not on every page;
 * a new gateway with changed files gives them new URLs. A URL with an old or no hash still
 * gets the current file, but the browser must ask again next time.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../../agents/gateway/web/', import.meta.url));
const TYPES: Record<string, string> = {
  'live.js': 'text/javascript; charset=utf-8',
  'web.css': 'text/css; charset=utf-8',
  'clusters.js': 'text/javascript; charset=utf-8',
  'docs.js': 'text/javascript; charset=utf-8',
};

export interface Asset {
  type: string;
  body: string;
  /** The first 16 hex digits of the body's SHA-256. */
  hash: string;
}

const ASSETS = new Map<string, Asset>(
  Object.entries(TYPES).map(([name, type]) => {
    const body = readFileSync(`${dir}${name}`, 'utf8');
    return [name, { type, body, hash: createHash('sha256').update(body).digest('hex').slice(0, 16) }];
  }),
);

export const asset = (name: string): Asset | undefined => ASSETS.get(name);

/** The URL a page names a static file by. */
export function assetUrl(name: string): string {
  const a = ASSETS.get(name);
  if (!a) throw new Error(`no web asset ${name}`);
  return `/web/assets/${name}?v=${a.hash}`;
}

/** Cache-Control for a request of `name` with `v`: for good when `v` is the current hash. */
export const assetCaching = (a: Asset, v: unknown): string =>
  v === a.hash ? 'public, max-age=31536000, immutable' : 'no-cache';
