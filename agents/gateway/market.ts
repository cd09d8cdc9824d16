/**
 * The marketplace of shared contexts (CernVM Online's): a user publishes one version of a
 * context, or a cluster definition, with a summary, a description and tags; anyone who may use the gateway searches
 * (words match names, summaries and descriptions; `+tag` requires, `-tag` excludes),
 * votes once per entry (changeable), and clones an entry into a context (or cluster
 * definition) of their own.
 * Entries show only what was written for them, never a context's content; a clone of an
 * encrypted version stays encrypted under its owner's passphrase.
 *
 * Its tables come from the gateway's numbered migrations (model/schema.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../core/index.js';
import {
  ConflictError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  bareJid,
  type ClusterRecord,
  type ContextInfo,
  type GatewayModel,
} from './model/index.js';

/**
 * A cluster as it is published: each service's context named by its id and pinned to the
 * version it has now, so that whoever deploys the entry gets the contexts the publisher
 * shared (a name would be looked up among the deploying user's own contexts). A context
 * others cannot read would make the entry undeployable for them: publishing is refused,
 * naming the service and the context.
 */
function pinContextsWith(model: GatewayModel, c: ClusterRecord, who: string): string {
  const pins = new Map<string, { id: string; version: number }>();
  for (const svc of c.definition.services) {
    if (!svc.context) continue;
    const ctx = model.contexts.resolve(svc.context.ref, who);
    if (!ctx) throw new NotFoundError('context', svc.context.ref);
    if (ctx.visibility !== 'public')
      throw new InvalidError(
        `cluster ${c.name}: service ${svc.name} uses context '${ctx.name}', which only its owner can read: make it public before publishing the cluster`,
        'cluster',
      );
    pins.set(svc.name, { id: ctx.id, version: svc.context.version ?? model.contexts.version(ctx.id)!.number });
  }
  if (!pins.size) return c.ini;
  const out: string[] = [];
  let pin: { id: string; version: number } | undefined;
  for (const line of c.ini.split('\n')) {
    const section = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (section) pin = section[1]!.startsWith('service.') ? pins.get(section[1]!.slice(8)) : undefined;
    else if (pin && /^\s*context_version\s*[=:]/.test(line)) continue;
    else if (pin && /^\s*context\s*[=:]/.test(line)) {
      out.push(`context = ${pin.id}`, `context_version = ${pin.version}`);
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}

export interface MarketEntry {
  readonly id: string;
  readonly kind: 'context' | 'cluster';
  readonly owner: string;
  /** Context entries: the published version. */
  readonly contextId?: string;
  readonly contextVersion?: number;
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  readonly encrypted: boolean;
  readonly tags: readonly string[];
  /** Sum of the votes (+1 / -1 each). */
  readonly rank: number;
  readonly votes: number;
  readonly createdAt: number;
}

export interface MarketPage {
  readonly entries: readonly MarketEntry[];
  readonly total: number;
  readonly page: number;
  readonly pages: number;
}

interface Row {
  id: string;
  kind: 'context' | 'cluster';
  owner: string;
  context_id: string | null;
  context_version: number | null;
  cluster_ini: string | null;
  name: string;
  summary: string;
  description: string;
  encrypted: number;
  created_at: number;
  rank: number;
  votes: number;
  tags: string | null;
}

const TAG = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
const SELECT = `SELECT e.*, e.rowid AS seq, coalesce((SELECT sum(value) FROM market_votes v WHERE v.entry_id = e.id), 0) AS rank,
  (SELECT count(*) FROM market_votes v WHERE v.entry_id = e.id) AS votes,
  (SELECT group_concat(tag, ' ') FROM (SELECT tag FROM market_tags t WHERE t.entry_id = e.id ORDER BY tag)) AS tags
  FROM market_entries e`;

const toEntry = (r: Row): MarketEntry =>
  Object.freeze({
    id: r.id,
    kind: r.kind,
    owner: r.owner,
    ...(r.context_id !== null ? { contextId: r.context_id, contextVersion: r.context_version! } : {}),
    name: r.name,
    summary: r.summary,
    description: r.description,
    encrypted: r.encrypted === 1,
    tags: Object.freeze(r.tags ? r.tags.split(' ') : []),
    rank: r.rank,
    votes: r.votes,
    createdAt: r.created_at,
  });

export function parseTags(list: readonly string[]): string[] {
  const tags = [...new Set(list.map((t) => t.trim().toLowerCase()).filter((t) => t !== ''))];
  const bad = tags.find((t) => !TAG.test(t));
  if (bad) throw new InvalidError(`tag '${bad.slice(0, 40)}': lower-case letters, digits, . _ - (at most 32)`);
  if (tags.length > 16) throw new InvalidError(`at most 16 tags, got ${tags.length}`);
  return tags;
}

/** Words, +tag and -tag from a search line. */
export function parseQuery(text: string): { words: string[]; require: string[]; exclude: string[] } {
  const q = { words: [] as string[], require: [] as string[], exclude: [] as string[] };
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (w.startsWith('+') && w.length > 1) q.require.push(...parseTags([w.slice(1)]));
    else if (w.startsWith('-') && w.length > 1) q.exclude.push(...parseTags([w.slice(1)]));
    else q.words.push(w.toLowerCase());
  }
  return q;
}

export function createMarket({
  db,
  model,
  isAdmin,
  now = Date.now,
}: {
  db: Db;
  model: GatewayModel;
  isAdmin: (jid: string) => boolean;
  now?: () => number;
}) {
  const get = (id: string): MarketEntry | undefined => {
    const r = db.prepare(`${SELECT} WHERE e.id = ?`).get(id) as Row | undefined;
    return r && toEntry(r);
  };
  const require = (id: string): MarketEntry =>
    get(id) ??
    (() => {
      throw new NotFoundError('market entry', id);
    })();
  const pinContexts = (c: ClusterRecord, who: string) => pinContextsWith(model, c, who);

  return {
    get,
    /** A cluster entry's definition as it was published (undefined for a context entry). */
    definition: (id: string): string | undefined =>
      (db.prepare('SELECT cluster_ini FROM market_entries WHERE id = ?').pluck().get(id) as string | null) ?? undefined,
    /**
     * Publishes one of the user's own contexts (by name or id) at its newest version, or
     * with `cluster` one of the user's cluster definitions as it is now.
     */
    publish(
      user: string,
      input: { context?: string; cluster?: string; summary: string; description?: string; tags?: readonly string[] },
    ): MarketEntry {
      const who = bareJid(user);
      const summary = input.summary.trim();
      if (summary === '' || summary.length > 140 || /[\r\n]/.test(summary))
        throw new InvalidError('summary: one line of 1-140 characters');
      const description = (input.description ?? '').trim();
      if (description.length > 4000)
        throw new InvalidError(`description: at most 4000 characters, got ${description.length}`);
      const tags = parseTags(input.tags ?? []);
      const entry = {
        id: `m-${randomBytes(6).toString('hex')}`,
        kind: 'context',
        owner: who,
        summary,
        description,
        created_at: now(),
      } as Record<string, unknown>;
      if (input.cluster !== undefined) {
        const c = model.clusters.get(who, input.cluster);
        if (!c) throw new NotFoundError('cluster', input.cluster);
        if (
          db
            .prepare(
              "SELECT 1 FROM market_entries WHERE kind = 'cluster' AND owner = ? AND name = ? AND cluster_ini = ?",
            )
            .get(who, c.name, pinContexts(c, who))
        ) {
          throw new InvalidError(`cluster ${c.name} is already published as it is`);
        }
        Object.assign(entry, { kind: 'cluster', name: c.name, cluster_ini: pinContexts(c, who), encrypted: 0 });
      } else {
        const ctx: ContextInfo | undefined = model.contexts.resolve(input.context ?? '', who);
        if (!ctx) throw new NotFoundError('context', input.context ?? '');
        if (ctx.owner !== who)
          throw new ForbiddenError(`context '${ctx.name}' belongs to ${ctx.owner}: clone it before publishing`);
        const v = model.contexts.version(ctx.id)!;
        if (
          db.prepare('SELECT 1 FROM market_entries WHERE context_id = ? AND context_version = ?').get(ctx.id, v.number)
        ) {
          throw new InvalidError(`${ctx.name} v${v.number} is already published`);
        }
        Object.assign(entry, {
          name: ctx.name,
          context_id: ctx.id,
          context_version: v.number,
          encrypted: v.encrypted ? 1 : 0,
        });
      }
      db.transaction(() => {
        db.prepare(`INSERT INTO market_entries (id, kind, owner, context_id, context_version, cluster_ini, name, summary, description, encrypted, created_at)
          VALUES (@id, @kind, @owner, @context_id, @context_version, @cluster_ini, @name, @summary, @description, @encrypted, @created_at)`).run(
          { context_id: null, context_version: null, cluster_ini: null, ...entry },
        );
        for (const t of tags) db.prepare('INSERT INTO market_tags (entry_id, tag) VALUES (?, ?)').run(entry.id, t);
      })();
      return require(entry.id as string);
    },
    /** Its publisher or an admin removes an entry (the context itself stays). */
    unpublish(user: string, id: string): void {
      const e = require(id);
      if (e.owner !== bareJid(user) && !isAdmin(user))
        throw new ForbiddenError(`market entry ${id} was published by ${e.owner}`);
      db.prepare('DELETE FROM market_entries WHERE id = ?').run(id);
    },
    /** Ordered by rank, then the most recent first (in the order published, within one millisecond); `page` counts from 1. */
    search(text: string, opts: { page?: number; perPage?: number } = {}): MarketPage {
      const q = parseQuery(text);
      const where: string[] = [];
      const args: unknown[] = [];
      for (const t of q.require) {
        where.push('EXISTS (SELECT 1 FROM market_tags t WHERE t.entry_id = e.id AND t.tag = ?)');
        args.push(t);
      }
      for (const t of q.exclude) {
        where.push('NOT EXISTS (SELECT 1 FROM market_tags t WHERE t.entry_id = e.id AND t.tag = ?)');
        args.push(t);
      }
      for (const w of q.words) {
        const like = `%${w.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        where.push(
          "(lower(e.name) LIKE ? ESCAPE '\\' OR lower(e.summary) LIKE ? ESCAPE '\\' OR lower(e.description) LIKE ? ESCAPE '\\')",
        );
        args.push(like, like, like);
      }
      const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
      const perPage = Math.min(Math.max(opts.perPage ?? 10, 1), 100);
      const page = Math.max(opts.page ?? 1, 1);
      const total = db
        .prepare(`SELECT count(*) FROM market_entries e${filter}`)
        .pluck()
        .get(...args) as number;
      const rows = db
        .prepare(`SELECT * FROM (${SELECT}${filter}) ORDER BY rank DESC, created_at DESC, seq DESC LIMIT ? OFFSET ?`)
        .all(...args, perPage, (page - 1) * perPage) as Row[];
      return Object.freeze({
        entries: Object.freeze(rows.map(toEntry)),
        total,
        page,
        pages: Math.max(1, Math.ceil(total / perPage)),
      });
    },
    /** One vote per user and entry: +1, -1, or 0 to take it back. */
    vote(user: string, id: string, value: 1 | -1 | 0): MarketEntry {
      const who = bareJid(user);
      const e = require(id);
      if (e.owner === who) throw new ForbiddenError('you cannot vote for your own entry');
      if (value === 0) db.prepare('DELETE FROM market_votes WHERE entry_id = ? AND voter = ?').run(id, who);
      else
        db.prepare(`INSERT INTO market_votes (entry_id, voter, value, at) VALUES (?, ?, ?, ?)
        ON CONFLICT (entry_id, voter) DO UPDATE SET value = excluded.value, at = excluded.at`).run(
          id,
          who,
          value,
          now(),
        );
      return require(id);
    },
    /**
     * A new context of `user` holding the entry's version (still encrypted if it was), or
     * for a cluster entry a cluster definition of the user's (never replacing one).
     */
    clone(
      user: string,
      id: string,
      name?: string,
    ): { kind: 'context'; context: ContextInfo } | { kind: 'cluster'; cluster: ClusterRecord } {
      const e = require(id);
      const who = bareJid(user);
      if (e.kind === 'cluster') {
        if (name !== undefined)
          throw new InvalidError('a cluster is cloned under its own name (the one in its [cluster] section)');
        if (model.clusters.get(who, e.name)) throw new ConflictError(`you already have a cluster '${e.name}'`);
        const ini = db.prepare('SELECT cluster_ini FROM market_entries WHERE id = ?').pluck().get(id) as string;
        return { kind: 'cluster', cluster: model.clusters.put(who, ini) };
      }
      const v = model.contexts.version(e.contextId!, e.contextVersion);
      if (!v) throw new NotFoundError('context version', `${e.contextId}@${e.contextVersion}`);
      return {
        kind: 'context',
        context: model.contexts.create({ owner: who, name: name ?? e.name, content: v.content }),
      };
    },
  };
}

export type Market = ReturnType<typeof createMarket>;
