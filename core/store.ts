/**
 * Persistence on better-sqlite3: one database file per agent, opened with the settings a
 * long-running agent wants, and a schema brought up to date by numbered migrations.
 *
 * - WAL lets readers run while the single writer commits; synchronous=NORMAL is durable
 *   across application crashes in WAL mode and loses at most the last commits on power
 *   loss (https://www.sqlite.org/pragma.html#pragma_synchronous), the usual trade-off.
 * - busy_timeout makes a second process (a CLI reading an agent's database) wait for the
 *   lock instead of failing with SQLITE_BUSY at once.
 * - Migration i (0-based) brings `PRAGMA user_version` from i to i+1. Each runs in its own
 *   BEGIN IMMEDIATE transaction that re-reads the version first, so two processes opening
 *   the same file cannot both apply it; user_version is part of the database header and
 *   commits or rolls back with the transaction.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CloudgateError } from './errors.js';
import type { Logger } from './log.js';

export type Db = Database.Database;
/** SQL run with exec(), or a function for data migrations that need code. */
export type Migration = string | ((db: Db) => void);

export interface StoreOptions {
  log?: Logger;
  /** Milliseconds to wait for a lock held by another connection. Default 5000. */
  busyTimeoutMs?: number;
}

export function openStore(file: string, migrations: readonly Migration[], opts: StoreOptions = {}): Db {
  const memory = file === ':memory:' || file === '';
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  let db: Db | undefined;
  try {
    db = new Database(file);
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000))}`);
    if (!memory) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db?.close();
    // SQLite reports a non-database file only at the first statement, so this covers it.
    throw new CloudgateError('CG_STORE_OPEN', `${file}: cannot open database (${(err as Error).message})`, {
      cause: err,
    });
  }
  try {
    migrate(db, file, migrations, opts.log);
  } catch (err) {
    db.close();
    throw err;
  }
  reuseStatements(db);
  return db;
}

/**
 * Models call db.prepare(sql) at each use, which keeps each query beside the code that
 * runs it; compiling the SQL each time was a tenth of the gateway's CPU in a 300-instance
 * deployment. So a statement is compiled once per SQL text and handed out again with its
 * modes reset (a caller may have turned pluck on), unless it is busy (an iteration over
 * it has not finished), in which case the caller gets a fresh one. Statements are
 * therefore prepared where they are used, never kept: a kept one would lose its modes
 * when the same SQL is prepared elsewhere.
 */
const MAX_CACHED_STATEMENTS = 1000;
function reuseStatements(db: Db): void {
  const compile = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    const s = cache.get(sql);
    if (!s) {
      const fresh = compile(sql);
      if (cache.size < MAX_CACHED_STATEMENTS) cache.set(sql, fresh);
      return fresh;
    }
    if (s.busy) return compile(sql);
    if (s.reader) s.pluck(false).raw(false).expand(false);
    return s;
  };
  db.prepare = prepare as Db['prepare'];
}

function migrate(db: Db, file: string, migrations: readonly Migration[], log?: Logger): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const start = version();
  if (start > migrations.length) {
    throw new CloudgateError(
      'CG_STORE_VERSION',
      `${file}: database schema version ${start} is newer than this program knows (${migrations.length}); refusing to use it`,
    );
  }
  for (;;) {
    const applied = db
      .transaction((): number | undefined => {
        const v = version();
        if (v >= migrations.length) return undefined;
        const m = migrations[v]!;
        try {
          if (typeof m === 'string') db.exec(m);
          else m(db);
        } catch (err) {
          throw new CloudgateError(
            'CG_STORE_MIGRATION',
            `${file}: migration ${v + 1} failed: ${(err as Error).message}`,
            { cause: err },
          );
        }
        db.pragma(`user_version = ${v + 1}`);
        return v + 1;
      })
      .immediate();
    if (applied === undefined) return;
    log?.info({ file, version: applied }, 'database migrated');
  }
}

export interface SeenIds {
  has(id: string): boolean;
  /** Records `id`; false if it was already recorded (a duplicate), in one atomic step. */
  add(id: string): boolean;
  /** Forgets ids recorded more than `olderThanMs` ago; returns how many. */
  prune(olderThanMs: number): number;
}

/**
 * Ids already processed, kept in `table` so de-duplication survives a restart: the
 * receiver of at-least-once messages calls add(id) and drops the message when it returns
 * false. The table is created here if missing (it is not part of any migration list).
 */
export function createSeenIds(db: Db, table: string, opts: { now?: () => number } = {}): SeenIds {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new TypeError(`bad table name '${table}'`);
  const now = opts.now ?? Date.now;
  db.exec(`CREATE TABLE IF NOT EXISTS "${table}" (id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS "${table}_seen_at" ON "${table}" (seen_at);`);
  const hasStmt = db.prepare(`SELECT 1 FROM "${table}" WHERE id = ?`).pluck();
  const addStmt = db.prepare(`INSERT OR IGNORE INTO "${table}" (id, seen_at) VALUES (?, ?)`);
  const pruneStmt = db.prepare(`DELETE FROM "${table}" WHERE seen_at < ?`);
  return {
    has: (id) => hasStmt.get(id) !== undefined,
    add: (id) => addStmt.run(id, now()).changes === 1,
    prune: (olderThanMs) => pruneStmt.run(now() - olderThanMs).changes,
  };
}
