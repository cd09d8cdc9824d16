/**
 * Pairing: give an already-running machine a context (CernVM Online's idea). A user asks
 * the gateway for a code (gateway PairingCode), types it on the machine
 * (`cloudgate agent instance` with pair_code + gateway_url), and the machine fetches its
 * context with a fresh XMPP identity from POST /pair — it has no identity to ask over XMPP.
 *
 * Where CernVM Online's codes were short and lived on, these are:
 *  - unguessable: 80 random bits (crypto.randomBytes), Crockford base32 in groups of four
 *    (XXXX-XXXX-XXXX-XXXX; case, dashes and blanks ignored, O/I/L read as 0/1/1);
 *  - stored only as a SHA-256 hash: a copy of the database redeems nothing. A plain hash
 *    suffices because the input has 80 bits of entropy — there is no dictionary to try;
 *  - expiring (default 10 min, never beyond max_ttl) and single-use (an atomic UPDATE);
 *  - rate-limited: an address with too many failed attempts is refused (429) for a while.
 * Unknown and already-used codes get the same answer (404), so the endpoint does not tell
 * anyone which codes existed; an expired one says so (410), which helps the user and
 * gives nothing away: an expired code is worthless.
 *
 * The identity is `pair-<random>@<domain>`, minted by `mint` (the gateway holds that
 * host's JWT key); allow = the code's owner and the gateway, which is also named as
 * `cloud` so the machine renews its token here (RenewToken, for identities paired here).
 * Encrypted contexts cannot be paired: the gateway never holds their passphrase.
 * Serve POST /pair on loopback or behind a TLS-terminating proxy: the answer holds a token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Agent, AgentModule } from '../../core/index.js';
import {
  cloud as cloudProto,
  gateway as gatewayProto,
  forbidden,
  notAcceptable,
  notFound,
  resourceConstraint,
} from '../../protocols/index.js';
import { parseServer, withCloudgate, type CloudgateSection } from '../instance/context/index.js';
import type { GatewayModel } from './model/index.js';

export interface PairingOptions {
  agent: Agent;
  model: GatewayModel;
  log: Logger;
  /** Mints a login token for `jid` (bare) on `domain`. */
  mint: (jid: string) => Promise<{ token: string; expires: number }>;
  httpPort: number;
  /** Default 127.0.0.1. */
  httpHost?: string;
  /** XMPP host of paired machines (one whose JWT key the gateway holds). */
  domain: string;
  /** host:port paired machines log in to. */
  server: string;
  /** PEM of the CA of the server's certificate, passed on to the machine. */
  ca?: string;
  defaultTtlS?: number;
  maxTtlS?: number;
  /** Failed attempts per address per window before 429 (default 10 per 10 min). */
  maxFailures?: number;
  failureWindowMs?: number;
  /** Codes an owner may have outstanding (default 20). */
  maxCodesPerOwner?: number;
  /** Answer RenewToken for identities paired here (default true). */
  renewTokens?: boolean;
  /**
   * Answer PairingCode requests here (default). The gateway turns this off: its service
   * layer answers them, after authorizing the caller like every other use case.
   */
  serveCodes?: boolean;
  now?: () => number;
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 16; // 80 bits

/** Crockford base32 of 10 random bytes, grouped for typing. */
export function newPairingCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join('-');
}

/** The canonical form of what a person typed, or undefined when it cannot be a code. */
export function normalizePairingCode(typed: string): string | undefined {
  const s = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return s.length === CODE_CHARS && [...s].every((c) => ALPHABET.includes(c)) ? s : undefined;
}

const hashOf = (canonical: string) => createHash('sha256').update(canonical).digest('hex');

const TABLE = `CREATE TABLE IF NOT EXISTS pairing_codes (
  hash TEXT PRIMARY KEY, owner TEXT NOT NULL, context_id TEXT NOT NULL, version INTEGER NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER, jid TEXT);
  CREATE INDEX IF NOT EXISTS pairing_codes_owner ON pairing_codes (owner, expires_at);
  CREATE INDEX IF NOT EXISTS pairing_codes_jid ON pairing_codes (jid);`;

interface Row {
  hash: string;
  owner: string;
  context_id: string;
  version: number;
  expires_at: number;
  used_at: number | null;
}
export interface Redeemed {
  status: number;
  body: { context?: string; jid?: string; version?: number; expires?: number; error?: string; message?: string };
}

export interface PairingModule extends AgentModule {
  readonly url: string;
  /** Emits 'claimed' (owner's bare JID) after a machine redeemed one of that owner's codes. */
  readonly events: EventEmitter;
  /** The owner's codes of the last day, newest first: context, times, and who claimed each. */
  recent(owner: string): PairedCode[];
  redeem(code: string): Promise<Redeemed>;
  /**
   * A new code for `owner`'s context (the caller is authorized by the service layer first);
   * with `shared`, `ref` is the id of a context whose version a marketplace entry shares
   * with every user, so `owner` need not be able to read the context otherwise.
   */
  createCode(
    owner: string,
    ref: string,
    version: number | undefined,
    ttlS: number | undefined,
    shared?: boolean,
  ): { code: string; expires: number };
}

/** One issued code as its owner sees it later (the code itself is not kept). Times in ms. */
export interface PairedCode {
  context: string;
  version: number;
  created: number;
  expires: number;
  claimed?: number;
  jid?: string;
}

export function pairing(o: PairingOptions): PairingModule {
  const { model, log } = o;
  const events = new EventEmitter();
  const db = model.db;
  // Not one of the model's numbered migrations: the table belongs to this module and
  // holds nothing worth keeping across schema versions (codes live minutes).
  db.exec(TABLE);
  const now = o.now ?? Date.now;
  const domain = o.domain.toLowerCase();
  const server = parseServer(o.server);
  if (!server) throw new TypeError(`pairing: server must be host:port, got '${o.server}'`);
  const failures = new Map<string, { count: number; since: number }>();
  const windowMs = o.failureWindowMs ?? 600_000;
  const maxFailures = o.maxFailures ?? 10;
  let http: Server | undefined;
  let url = '';

  const createCode = (
    owner: string,
    ref: string,
    version: number | undefined,
    ttlS: number | undefined,
    shared = false,
  ) => {
    const info = shared ? model.contexts.get(ref) : model.contexts.resolve(ref, owner);
    if (!info) throw notFound(`no context '${ref}' that ${owner} may read`);
    const v = model.contexts.version(info.id, version ?? info.latest);
    if (!v) throw notFound(`context '${info.name}' has no version ${version}`);
    if (v.content.type === 'encrypted')
      throw notAcceptable('an encrypted context cannot be paired: the gateway never holds its passphrase', 'encrypted');
    const t = now();
    db.prepare('DELETE FROM pairing_codes WHERE expires_at < ? AND jid IS NULL').run(t - 86_400_000);
    const open = db
      .prepare('SELECT count(*) FROM pairing_codes WHERE owner = ? AND used_at IS NULL AND expires_at > ?')
      .pluck()
      .get(owner, t) as number;
    if (open >= (o.maxCodesPerOwner ?? 20))
      throw resourceConstraint(`${owner} has ${open} unused pairing codes; let some expire first`, 'too-many-codes');
    const ttl = Math.min(ttlS ?? o.defaultTtlS ?? 600, o.maxTtlS ?? 3600);
    const code = newPairingCode();
    const expires = t + ttl * 1000;
    db.prepare(
      'INSERT INTO pairing_codes (hash, owner, context_id, version, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(hashOf(normalizePairingCode(code)!), owner, info.id, v.number, t, expires);
    log.info({ owner, context: info.id, version: v.number, ttlS: ttl }, 'pairing code issued');
    return { code, expires: Math.floor(expires / 1000) };
  };

  const redeem = async (typed: string): Promise<Redeemed> => {
    const gone = { status: 404, body: { error: 'unknown-code', message: 'unknown or already used pairing code' } };
    const canonical = normalizePairingCode(typed);
    if (!canonical)
      return {
        status: 400,
        body: {
          error: 'malformed-code',
          message: `a pairing code is ${CODE_CHARS} letters and digits (XXXX-XXXX-XXXX-XXXX)`,
        },
      };
    const hash = hashOf(canonical);
    const row = db.prepare('SELECT * FROM pairing_codes WHERE hash = ?').get(hash) as Row | undefined;
    if (!row || row.used_at !== null) return gone;
    if (row.expires_at <= now())
      return {
        status: 410,
        body: { error: 'expired', message: 'pairing code expired; ask the gateway for a new one' },
      };
    const v = model.contexts.version(row.context_id, row.version);
    if (v?.content.type !== 'plain')
      return {
        status: 410,
        body: { error: 'context-gone', message: 'the context of this pairing code no longer exists' },
      };
    const local = `pair-${randomBytes(6).toString('hex')}`;
    const jid = `${local}@${domain}`;
    const { token, expires } = await o.mint(jid);
    // Single use even under concurrent redeems: only the UPDATE that flips used_at wins.
    const won =
      db
        .prepare('UPDATE pairing_codes SET used_at = ?, jid = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?')
        .run(now(), jid, hash, now()).changes === 1;
    if (!won) return gone;
    const gw = o.agent.bare;
    const section: CloudgateSection = {
      jid,
      domain,
      server,
      token,
      tokenExpires: expires,
      ca: o.ca,
      allow: [...new Set([row.owner, gw])],
      gateway: gw,
      cloud: gw,
      contextVersion: row.version,
      contextId: row.context_id,
      instanceId: local,
    };
    log.info({ owner: row.owner, jid, context: row.context_id, version: row.version }, 'machine paired');
    events.emit('claimed', row.owner);
    return {
      status: 200,
      body: { context: withCloudgate(v.content.body, section), jid, version: row.version, expires },
    };
  };

  const limited = (addr: string): number => {
    const f = failures.get(addr);
    if (!f) return 0;
    const left = f.since + windowMs - now();
    if (left <= 0) {
      failures.delete(addr);
      return 0;
    }
    return f.count >= maxFailures ? Math.ceil(left / 1000) : 0;
  };
  const failed = (addr: string) => {
    if (failures.size > 10_000) for (const [k, f] of failures) if (f.since + windowMs <= now()) failures.delete(k);
    const f = failures.get(addr);
    if (f && f.since + windowMs > now()) f.count++;
    else failures.set(addr, { count: 1, since: now() });
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: object, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
      res.end(JSON.stringify(body));
    };
    const addr = req.socket.remoteAddress ?? 'unknown';
    if ((req.url ?? '').split('?')[0] !== '/pair')
      return send(404, { error: 'not-found', message: 'POST /pair {"code": "..."}' });
    if (req.method !== 'POST') return send(405, { error: 'method', message: 'use POST' }, { allow: 'POST' });
    const wait = limited(addr);
    if (wait)
      return send(
        429,
        { error: 'rate-limited', message: `too many failed attempts; retry in ${wait} s` },
        { 'retry-after': String(wait) },
      );
    let raw = '';
    for await (const chunk of req) {
      raw += chunk;
      if (raw.length > 4096) {
        failed(addr);
        return send(413, { error: 'too-large', message: 'request body over 4096 bytes' });
      }
    }
    let code: unknown;
    try {
      code = (JSON.parse(raw) as { code?: unknown })?.code;
    } catch {
      /* below */
    }
    if (typeof code !== 'string') {
      failed(addr);
      return send(400, { error: 'bad-request', message: 'expected a JSON body {"code": "XXXX-XXXX-XXXX-XXXX"}' });
    }
    const r = await redeem(code);
    if (r.status !== 200) {
      failed(addr);
      log.warn({ addr, status: r.status, error: r.body.error }, 'pairing attempt refused');
    }
    send(r.status, r.body);
  };

  return {
    name: 'pairing',
    get url() {
      return url;
    },
    redeem,
    createCode,
    events,
    recent(owner: string): PairedCode[] {
      const rows = db
        .prepare(
          'SELECT context_id, version, created_at, expires_at, used_at, jid FROM pairing_codes WHERE owner = ? AND created_at > ? ORDER BY created_at DESC LIMIT 50',
        )
        .all(owner, now() - 86_400_000) as (Omit<Row, 'hash' | 'owner'> & { created_at: number; jid: string | null })[];
      return rows.map((r) => ({
        context: model.contexts.get(r.context_id)?.name ?? r.context_id,
        version: r.version,
        created: r.created_at,
        expires: r.expires_at,
        ...(r.used_at !== null ? { claimed: r.used_at } : {}),
        ...(r.jid ? { jid: r.jid } : {}),
      }));
    },
    setup(agent) {
      if (o.serveCodes !== false)
        agent.handle(gatewayProto.PairingCode, ({ context, version, ttl_s }, ctx) =>
          createCode(ctx.bare, context, version, ttl_s),
        );
      if (o.renewTokens === false) return;
      agent.handle(cloudProto.RenewToken, async (_req, ctx) => {
        const paired =
          ctx.bare.endsWith(`@${domain}`) && db.prepare('SELECT 1 FROM pairing_codes WHERE jid = ?').get(ctx.bare);
        if (!paired) throw forbidden(`${ctx.bare} was not paired by this gateway`, 'not-paired');
        return o.mint(ctx.bare);
      });
    },
    async start() {
      http = createServer((req, res) => {
        onRequest(req, res).catch((err) => {
          log.error({ err }, 'pairing request failed');
          if (!res.headersSent) {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end('{"error":"internal","message":"internal error (logged)"}');
          }
        });
      });
      const host = o.httpHost ?? '127.0.0.1';
      await new Promise<void>((resolve, reject) => {
        http!.once('error', reject);
        http!.listen(o.httpPort, host, () => resolve());
      });
      const a = http.address() as AddressInfo;
      url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
      log.info({ url }, 'pairing endpoint listening');
    },
    async stop() {
      const h = http;
      http = undefined;
      if (!h) return;
      h.closeAllConnections();
      await new Promise<void>((r) => h.close(() => r()));
    },
  };
}
