/**
 * Where an instance finds its context, in order (DESIGN.md "Contexts"):
 *  1. file      the path in CLOUDGATE_CONTEXT_FILE (set by the local driver, or by hand)
 *  2. metadata  EC2 user-data: IMDSv2 (PUT /latest/api/token, then GET with the token),
 *               falling back to IMDSv1 when the token endpoint refuses or stays silent;
 *               404 means "no user-data"
 *  3. config-drive  a directory holding `user-data` (NoCloud/libvirt) or
 *               `openstack/latest/user_data` (OpenStack config drive)
 * A source whose data does not decode or holds no [section] is passed over, and the error
 * raised when nothing is found lists every source with its reason.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ContextNotFoundError, type SourceAttempt } from './errors.js';
import { httpRequest, HttpFailure } from './http.js';
import { looksLikeContext } from './parse.js';
import { decodeUserData, type Encoding } from './userdata.js';

export const DEFAULT_METADATA_URL = 'http://169.254.169.254/latest/user-data';
export const DEFAULT_CONFIG_DRIVE_DIRS: readonly string[] = [
  '/run/cloudgate/config-drive',
  '/media/cidata',
  '/mnt/config',
];
const CONFIG_DRIVE_FILES = ['user-data', 'openstack/latest/user_data'];
/** IMDSv2 token lifetime asked for; we use it once, right away. */
const TOKEN_TTL_SECONDS = '60';

export interface FindOptions {
  /** Environment to read CLOUDGATE_* from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: env CLOUDGATE_METADATA_URL, else the EC2 link-local address. */
  metadataUrl?: string;
  /** Default: [env CLOUDGATE_CONFIG_DRIVE] if set, else DEFAULT_CONFIG_DRIVE_DIRS. */
  configDriveDirs?: readonly string[];
  /** Budget for the whole metadata probe (token + user-data); default 2000 ms. */
  timeoutMs?: number;
  log?: Logger;
}

export type SourceKind = 'file' | 'metadata' | 'config-drive';

export interface ContextSource {
  source: SourceKind;
  /** File path or URL the text came from. */
  location: string;
  text: string;
  /** Layers removed, outermost first. */
  encodings: Encoding[];
}

type Probe = { data: Buffer; location: string } | { reason: string; location: string };

export async function findContext(opts: FindOptions = {}): Promise<ContextSource> {
  const env = opts.env ?? process.env;
  const attempts: SourceAttempt[] = [];
  const probes: [SourceKind, () => Promise<Probe[]>][] = [
    ['file', async () => [await fromFile(env.CLOUDGATE_CONTEXT_FILE)]],
    [
      'metadata',
      async () => [
        await fromMetadata(
          opts.metadataUrl ?? env.CLOUDGATE_METADATA_URL ?? DEFAULT_METADATA_URL,
          opts.timeoutMs ?? 2000,
        ),
      ],
    ],
    [
      'config-drive',
      () =>
        fromConfigDrives(
          opts.configDriveDirs ??
            (env.CLOUDGATE_CONFIG_DRIVE ? [env.CLOUDGATE_CONFIG_DRIVE] : DEFAULT_CONFIG_DRIVE_DIRS),
        ),
    ],
  ];
  for (const [source, probe] of probes) {
    for (const p of await probe()) {
      if ('reason' in p) {
        attempts.push({ source, location: p.location, reason: p.reason });
        continue;
      }
      try {
        const { text, encodings } = decodeUserData(p.data);
        if (!looksLikeContext(text)) {
          attempts.push({
            source,
            location: p.location,
            reason: 'data is not an amiconfig context (no [section] header)',
          });
          continue;
        }
        opts.log?.info({ source, location: p.location, encodings }, 'context found');
        return { source, location: p.location, text, encodings };
      } catch (err) {
        attempts.push({ source, location: p.location, reason: (err as Error).message });
      }
    }
  }
  opts.log?.warn({ attempts }, 'no context found');
  throw new ContextNotFoundError(attempts);
}

async function fromFile(path: string | undefined): Promise<Probe> {
  if (!path) return { location: '$CLOUDGATE_CONTEXT_FILE', reason: 'not set' };
  try {
    const data = await fs.readFile(path);
    return data.length ? { data, location: path } : { location: path, reason: 'file is empty' };
  } catch (err) {
    return {
      location: path,
      reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message,
    };
  }
}

async function fromMetadata(url: string, timeoutMs: number): Promise<Probe> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { location: url, reason: 'not a valid URL' };
  }
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  const headers: Record<string, string> = {};
  try {
    // Half the budget at most: a token endpoint that never answers must leave time for v1.
    const tok = await httpRequest(new URL('/latest/api/token', parsed).href, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS },
      timeoutMs: Math.ceil(timeoutMs / 2),
      maxBytes: 4096,
    });
    if (tok.status === 200 && tok.body.length) headers['X-aws-ec2-metadata-token'] = tok.body.toString('utf8').trim();
  } catch (err) {
    // Refused/unreachable: nothing listens, v1 would fail the same way. A silent token
    // endpoint (PUT answers dropped by a hop limit of 1 in containers) may still serve v1.
    if (!(err instanceof HttpFailure) || !err.timedOut) return { location: url, reason: (err as Error).message };
  }
  try {
    // At least the other half: on a machine busy booting, the token's timer can fire late
    // and would otherwise leave the user-data request next to nothing.
    const res = await httpRequest(url, { headers, timeoutMs: Math.max(left(), Math.floor(timeoutMs / 2)) });
    const how = headers['X-aws-ec2-metadata-token'] ? 'IMDSv2' : 'IMDSv1';
    if (res.status === 404) return { location: url, reason: `no user-data (HTTP 404, ${how})` };
    if (res.status !== 200) return { location: url, reason: `HTTP ${res.status} (${how})` };
    if (res.body.length === 0) return { location: url, reason: `empty user-data (${how})` };
    return { data: res.body, location: url };
  } catch (err) {
    return { location: url, reason: (err as Error).message };
  }
}

async function fromConfigDrives(dirs: readonly string[]): Promise<Probe[]> {
  const out: Probe[] = [];
  for (const dir of dirs) {
    if (!(await fs.stat(dir).catch(() => undefined))?.isDirectory()) {
      out.push({ location: dir, reason: 'no such directory' });
      continue;
    }
    let found = false;
    for (const f of CONFIG_DRIVE_FILES) {
      const path = join(dir, f);
      const data = await fs.readFile(path).catch(() => undefined);
      if (data === undefined) continue;
      found = true;
      out.push(data.length ? { data, location: path } : { location: path, reason: 'file is empty' });
      break;
    }
    if (!found) out.push({ location: dir, reason: `holds none of ${CONFIG_DRIVE_FILES.join(', ')}` });
  }
  return out;
}
