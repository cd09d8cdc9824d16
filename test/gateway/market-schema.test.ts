/**
 * The marketplace's store: its tables come from the gateway's numbered migrations (also for
 * a database whose older gateway made them itself), and equal ranks list newest first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../core/index.js';
import { GATEWAY_MIGRATIONS, openGatewayStore } from '../../agents/gateway/model/index.js';
import { createMarket } from '../../agents/gateway/market.js';
import { memoryModel } from './helpers.js';

const tables = (db: ReturnType<typeof openGatewayStore>) =>
  db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'market_%' ORDER BY name")
    .pluck()
    .all();

test('a new gateway database has the marketplace tables from a numbered migration', () => {
  const db = openGatewayStore(':memory:');
  assert.deepEqual(tables(db), ['market_entries', 'market_tags', 'market_votes']);
  const at = GATEWAY_MIGRATIONS.findIndex((m) => typeof m === 'string' && m.includes('market_entries'));
  assert.ok(at >= 0, 'a migration creates market_entries');
  assert.equal(db.pragma('user_version', { simple: true }), GATEWAY_MIGRATIONS.length);
  db.close();
});

test('a database whose gateway created the marketplace tables itself keeps its entries, tags and votes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-gw-market-schema-'));
  try {
    const file = join(dir, 'gw.db');
    const at = GATEWAY_MIGRATIONS.findIndex((m) => typeof m === 'string' && m.includes('market_entries'));
    const old = openStore(file, GATEWAY_MIGRATIONS.slice(0, at));
    // As the marketplace module made them before the migration existed.
    old.exec(`CREATE TABLE market_entries (id TEXT PRIMARY KEY, owner TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('context', 'cluster')), context_id TEXT REFERENCES contexts(id) ON DELETE CASCADE,
      context_version INTEGER, cluster_ini TEXT, name TEXT NOT NULL, summary TEXT NOT NULL, description TEXT NOT NULL,
      encrypted INTEGER NOT NULL, created_at INTEGER NOT NULL, UNIQUE (context_id, context_version));
      CREATE TABLE market_tags (entry_id TEXT NOT NULL REFERENCES market_entries(id) ON DELETE CASCADE, tag TEXT NOT NULL, PRIMARY KEY (entry_id, tag));
      CREATE TABLE market_votes (entry_id TEXT NOT NULL REFERENCES market_entries(id) ON DELETE CASCADE, voter TEXT NOT NULL,
        value INTEGER NOT NULL CHECK (value IN (-1, 1)), at INTEGER NOT NULL, PRIMARY KEY (entry_id, voter));
      INSERT INTO market_entries VALUES ('m-1', 'alice@x', 'cluster', NULL, NULL, '[cluster]', 'pool', 's', '', 0, 1);
      INSERT INTO market_tags VALUES ('m-1', 'batch');
      INSERT INTO market_votes VALUES ('m-1', 'bob@x', 1, 2);`);
    old.close();
    const db = openGatewayStore(file);
    assert.equal(db.pragma('user_version', { simple: true }), GATEWAY_MIGRATIONS.length);
    assert.deepEqual(
      [
        db.prepare('SELECT count(*) FROM market_entries').pluck().get(),
        db.prepare('SELECT tag FROM market_tags').pluck().get(),
        db.prepare('SELECT value FROM market_votes').pluck().get(),
      ],
      [1, 'batch', 1],
    );
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('entries published in the same millisecond are listed newest first, in the order published', () => {
  const model = memoryModel();
  model.users.add('alice@example.org');
  const market = createMarket({ db: model.db, model, isAdmin: () => false, now: () => 1_700_000_000_000 });
  const names = Array.from({ length: 12 }, (_, i) => `ctx-${i}`);
  for (const name of names) {
    model.contexts.create({ owner: 'alice@example.org', name, content: { type: 'plain', body: '[amiconfig]\n' } });
    market.publish('alice@example.org', { context: name, summary: name });
  }
  const listed = [1, 2].flatMap((page) => market.search('', { page, perPage: 5 }).entries.map((e) => e.name));
  assert.deepEqual(listed, [...names].reverse().slice(0, 10));
});
