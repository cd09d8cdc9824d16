import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSeenIds, openStore, type Db } from '../../core/store.js';
import type { Logger } from '../../core/log.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'cg-store-'));

const V1 = 'CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL)';
const V2 = 'CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL REFERENCES a(id))';
const V3 = (db: Db) => {
  db.prepare("INSERT INTO a (name) VALUES ('seeded')").run();
};

test('a file database gets WAL, foreign keys, busy timeout and synchronous=NORMAL', () => {
  const db = openStore(join(tmp(), 'sub', 'dir', 'agent.db'), [V1]);
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
    assert.equal(db.pragma('synchronous', { simple: true }), 1); // NORMAL
  } finally {
    db.close();
  }
});

test('migrations apply in order, once, tracked by user_version', () => {
  const file = join(tmp(), 'm.db');
  let db = openStore(file, [V1, V2, V3]);
  assert.equal(db.pragma('user_version', { simple: true }), 3);
  assert.deepEqual(db.prepare('SELECT name FROM a').pluck().all(), ['seeded']);
  db.close();
  // Re-opening with the same list applies nothing again (V3 would insert a second row).
  db = openStore(file, [V1, V2, V3]);
  assert.equal(db.prepare('SELECT count(*) FROM a').pluck().get(), 1);
  db.close();
  // A longer list applies only the new tail.
  db = openStore(file, [V1, V2, V3, 'ALTER TABLE a ADD COLUMN extra TEXT']);
  assert.equal(db.pragma('user_version', { simple: true }), 4);
  db.prepare("UPDATE a SET extra = 'x'").run();
  db.close();
});

test('foreign keys are enforced', () => {
  const db = openStore(':memory:', [V1, V2]);
  assert.throws(() => db.prepare('INSERT INTO b (a_id) VALUES (42)').run(), /FOREIGN KEY/);
  db.close();
});

test('a failing migration rolls back and leaves the version where it was', () => {
  const file = join(tmp(), 'f.db');
  assert.throws(
    () => openStore(file, [V1, 'CREATE TABLE c (x); THIS IS NOT SQL']),
    (err: Error & { code?: string }) => err.code === 'CG_STORE_MIGRATION' && /migration 2 failed/.test(err.message),
  );
  const db = openStore(file, [V1]);
  assert.equal(db.pragma('user_version', { simple: true }), 1);
  assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'c'").pluck().get(), 0);
  db.close();
});

test('a database newer than the code is refused', () => {
  const file = join(tmp(), 'n.db');
  openStore(file, [V1, V2]).close();
  assert.throws(
    () => openStore(file, [V1]),
    (err: Error & { code?: string }) => err.code === 'CG_STORE_VERSION',
  );
});

test('an unopenable file is a typed error naming it', () => {
  const dir = tmp();
  const file = join(dir, 'not-a-db');
  writeFileSync(file, 'this is not an sqlite database, just text that is long enough to have a header.....');
  assert.throws(
    () => openStore(file, [V1]),
    (err: Error & { code?: string }) =>
      err.code === 'CG_STORE_OPEN' &&
      err.message.startsWith(`${file}: cannot open database`) &&
      err.message.includes('not a database'),
  );
});

test('the logger hears about each migration', () => {
  const lines: unknown[] = [];
  const log = { info: (o: unknown) => lines.push(o) } as unknown as Logger;
  openStore(':memory:', [V1, V2], { log }).close();
  assert.deepEqual(lines, [
    { file: ':memory:', version: 1 },
    { file: ':memory:', version: 2 },
  ]);
});

test('seenIds: add reports duplicates, survives a restart, prunes by age', () => {
  const file = join(tmp(), 's.db');
  let t = 1_000_000;
  const now = () => t;
  let db = openStore(file, []);
  let seen = createSeenIds(db, 'seen_msgs', { now });
  assert.equal(seen.has('m1'), false);
  assert.equal(seen.add('m1'), true);
  assert.equal(seen.add('m1'), false);
  assert.equal(seen.has('m1'), true);
  t += 10_000;
  assert.equal(seen.add('m2'), true);
  db.close();

  db = openStore(file, []);
  seen = createSeenIds(db, 'seen_msgs', { now });
  assert.equal(seen.has('m1'), true, 'remembered across re-open');
  assert.equal(seen.add('m2'), false);
  t += 1;
  assert.equal(seen.prune(5_000), 1, 'only m1 is older than 5 s');
  assert.equal(seen.has('m1'), false);
  assert.equal(seen.has('m2'), true);
  db.close();
});

test('seenIds rejects table names that would be SQL injection', () => {
  const db = openStore(':memory:', []);
  assert.throws(() => createSeenIds(db, 'x; DROP TABLE y'), TypeError);
  db.close();
});

test('statements are compiled once per SQL text, handed out with their modes reset, fresh while one is busy', () => {
  const db = openStore(':memory:', [V1]);
  try {
    for (const n of ['x', 'y', 'z']) db.prepare('INSERT INTO a (name) VALUES (?)').run(n);
    const sql = 'SELECT name FROM a ORDER BY id';
    const first = db.prepare(sql);
    assert.equal(db.prepare(sql), first, 'the same statement again');
    assert.deepEqual(db.prepare(sql).pluck().all(), ['x', 'y', 'z']);
    assert.deepEqual(
      db.prepare(sql).all(),
      [{ name: 'x' }, { name: 'y' }, { name: 'z' }],
      'pluck does not stick to the next caller',
    );
    assert.deepEqual(db.prepare(sql).raw().get(), ['x']);
    assert.deepEqual(db.prepare(sql).get(), { name: 'x' }, 'nor does raw');
    // Preparing the query being iterated, inside the loop, works: it gets its own statement.
    const seen: string[] = [];
    for (const row of db.prepare(sql).iterate() as Iterable<{ name: string }>) {
      seen.push(`${row.name}:${(db.prepare(sql).pluck().all() as string[]).length}`);
    }
    assert.deepEqual(seen, ['x:3', 'y:3', 'z:3']);
  } finally {
    db.close();
  }
});
