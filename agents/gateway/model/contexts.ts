/**
 * Contexts: named, owned, public or private INI documents with immutable numbered
 * versions. A change is a new version; someone else's context is changed by cloning it
 * first. Running instances name the exact version they applied, so what they run can
 * always be read back. Encrypted versions are stored as the envelope from crypto.ts; the
 * passphrase never reaches the gateway's database.
 */
import { ConflictError, ForbiddenError, InvalidError, NotFoundError } from './errors.js';
import { isEncryptedContext } from './crypto.js';
import { isConstraint, type RepoDeps } from './repo.js';
import { bareJid } from './users.js';

export type ContextContent =
  | { readonly type: 'plain'; readonly body: string }
  | { readonly type: 'encrypted'; readonly blob: Uint8Array };
export type Visibility = 'public' | 'private';

export interface ContextInfo {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
  readonly visibility: Visibility;
  readonly createdAt: number;
  /** Number of the newest version. */
  readonly latest: number;
}

export interface ContextVersionMeta {
  readonly contextId: string;
  readonly number: number;
  readonly createdAt: number;
  readonly encrypted: boolean;
  /** For the first version of a clone: the version it was copied from. */
  readonly parent?: { readonly contextId: string; readonly version: number };
}
export interface ContextVersion extends ContextVersionMeta {
  readonly content: ContextContent;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

interface InfoRow {
  id: string;
  name: string;
  owner: string;
  visibility: Visibility;
  created_at: number;
  latest: number;
}
interface VersionRow {
  context_id: string;
  number: number;
  created_at: number;
  body: string | null;
  blob: Buffer | null;
  parent_id: string | null;
  parent_version: number | null;
}

const INFO = `SELECT c.*, (SELECT max(number) FROM context_versions v WHERE v.context_id = c.id) AS latest FROM contexts c`;

function toInfo(r: InfoRow): ContextInfo {
  return {
    id: r.id,
    name: r.name,
    owner: r.owner,
    visibility: r.visibility,
    createdAt: r.created_at,
    latest: r.latest,
  };
}

function toMeta(r: VersionRow): ContextVersionMeta {
  return {
    contextId: r.context_id,
    number: r.number,
    createdAt: r.created_at,
    encrypted: r.blob !== null,
    ...(r.parent_id !== null ? { parent: { contextId: r.parent_id, version: r.parent_version! } } : {}),
  };
}

function checkContent(c: ContextContent): void {
  if (c.type === 'encrypted' && !isEncryptedContext(c.blob))
    throw new InvalidError('encrypted context content is not an envelope from encryptContext');
  if (c.type === 'plain' && typeof c.body !== 'string') throw new InvalidError('context body must be text');
}

export function createContexts(deps: RepoDeps) {
  const { db } = deps;
  const isAdmin = (jid: string) => db.prepare('SELECT admin FROM users WHERE jid = ?').pluck().get(jid) === 1;

  const get = (id: string): ContextInfo | undefined => {
    const r = db.prepare(`${INFO} WHERE c.id = ?`).get(id) as InfoRow | undefined;
    return r && toInfo(r);
  };
  const require = (id: string): ContextInfo => {
    const c = get(id);
    if (!c) throw new NotFoundError('context', id);
    return c;
  };
  const canRead = (c: ContextInfo, jid: string): boolean => {
    const who = bareJid(jid);
    return c.owner === who || c.visibility === 'public' || isAdmin(who);
  };
  const insertVersion = (
    id: string,
    n: number,
    content: ContextContent,
    parent?: { contextId: string; version: number },
  ) => {
    checkContent(content);
    db.prepare(`INSERT INTO context_versions (context_id, number, created_at, body, blob, parent_id, parent_version)
      VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
      id,
      n,
      deps.now(),
      content.type === 'plain' ? content.body : null,
      content.type === 'encrypted' ? Buffer.from(content.blob) : null,
      parent?.contextId ?? null,
      parent?.version ?? null,
    );
  };
  const insertContext = (owner: string, name: string, visibility: Visibility): string => {
    if (!NAME.test(name)) throw new InvalidError(`bad context name '${name}'`);
    if (!db.prepare('SELECT 1 FROM users WHERE jid = ?').get(owner)) throw new NotFoundError('user', owner);
    const id = deps.newId('c');
    try {
      db.prepare('INSERT INTO contexts (id, name, owner, visibility, created_at) VALUES (?, ?, ?, ?, ?)').run(
        id,
        name,
        owner,
        visibility,
        deps.now(),
      );
    } catch (err) {
      if (isConstraint(err, 'UNIQUE'))
        throw new ConflictError(`${owner} already has a context named '${name}'`, { cause: err });
      throw err;
    }
    return id;
  };
  const version = (id: string, number?: number): ContextVersion | undefined => {
    const r = (
      number === undefined
        ? db.prepare('SELECT * FROM context_versions WHERE context_id = ? ORDER BY number DESC LIMIT 1').get(id)
        : db.prepare('SELECT * FROM context_versions WHERE context_id = ? AND number = ?').get(id, number)
    ) as VersionRow | undefined;
    if (!r) return undefined;
    const content: ContextContent =
      r.blob !== null ? { type: 'encrypted', blob: r.blob } : { type: 'plain', body: r.body! };
    return { ...toMeta(r), content };
  };

  return {
    get,
    require,
    canRead,
    version,
    /** A new context with `content` as version 1. */
    create(input: { owner: string; name: string; visibility?: Visibility; content: ContextContent }): ContextInfo {
      const id = db.transaction(() => {
        const cid = insertContext(bareJid(input.owner), input.name, input.visibility ?? 'private');
        insertVersion(cid, 1, input.content);
        return cid;
      })();
      return require(id);
    },
    /** Appends a version; earlier versions stay exactly as they were. */
    newVersion(id: string, content: ContextContent): ContextVersion {
      const n = db.transaction(() => {
        const next = require(id).latest + 1;
        insertVersion(id, next, content);
        return next;
      })();
      return version(id, n)!;
    },
    /**
     * A new context owned by `newOwner` whose version 1 copies `version` (default: the
     * newest) of `id` and names it as parent. The source must be readable by `newOwner`.
     */
    clone(id: string, newOwner: string, opts: { name?: string; version?: number } = {}): ContextInfo {
      const owner = bareJid(newOwner);
      const cloned = db.transaction(() => {
        const src = require(id);
        if (!canRead(src, owner)) throw new ForbiddenError(`context '${src.name}' of ${src.owner} is private`);
        const v = version(id, opts.version ?? src.latest);
        if (!v) throw new NotFoundError('context version', `${id}@${opts.version}`);
        const cid = insertContext(owner, opts.name ?? src.name, 'private');
        insertVersion(cid, 1, v.content, { contextId: id, version: v.number });
        return cid;
      })();
      return require(cloned);
    },
    byName(owner: string, name: string): ContextInfo | undefined {
      const r = db.prepare(`${INFO} WHERE c.owner = ? AND c.name = ?`).get(bareJid(owner), name) as InfoRow | undefined;
      return r && toInfo(r);
    },
    /** A context id readable by `viewer`, or the name of one of viewer's own contexts. */
    resolve(ref: string, viewer: string): ContextInfo | undefined {
      const byId = get(ref);
      if (byId && canRead(byId, viewer)) return byId;
      const r = db.prepare(`${INFO} WHERE c.owner = ? AND c.name = ?`).get(bareJid(viewer), ref) as InfoRow | undefined;
      return r && toInfo(r);
    },
    versions(id: string): ContextVersionMeta[] {
      return (
        db.prepare('SELECT * FROM context_versions WHERE context_id = ? ORDER BY number').all(id) as VersionRow[]
      ).map(toMeta);
    },
    /** The contexts `viewer` may read: own, public, or all for an admin. */
    list(viewer: string): ContextInfo[] {
      const who = bareJid(viewer);
      const rows = isAdmin(who)
        ? db.prepare(`${INFO} ORDER BY c.owner, c.name`).all()
        : db.prepare(`${INFO} WHERE c.owner = ? OR c.visibility = 'public' ORDER BY c.owner, c.name`).all(who);
      return (rows as InfoRow[]).map(toInfo);
    },
    /** Visibility is metadata, not content: changing it creates no version. */
    setVisibility(id: string, visibility: Visibility): ContextInfo {
      if (db.prepare('UPDATE contexts SET visibility = ? WHERE id = ?').run(visibility, id).changes !== 1)
        throw new NotFoundError('context', id);
      return require(id);
    },
    /** ConflictError while an instance still records one of its versions. */
    remove(id: string): boolean {
      try {
        return db.prepare('DELETE FROM contexts WHERE id = ?').run(id).changes === 1;
      } catch (err) {
        if (isConstraint(err, 'FOREIGNKEY'))
          throw new ConflictError(`context '${id}' is in use by instances`, { cause: err });
        throw err;
      }
    },
  };
}

export type Contexts = ReturnType<typeof createContexts>;
