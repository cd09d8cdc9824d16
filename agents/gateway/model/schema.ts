/**
 * The gateway's SQLite schema, as migrations for core/store.ts. Append new migrations;
 * never edit one that has shipped (user_version records which ones a database has).
 *
 * State names are spelled out (not generated from states.ts) so a shipped migration never
 * changes; a test checks they match the state machines.
 *
 * Immutability is also enforced by the database, not only by the repositories: context
 * versions and events refuse UPDATE through triggers, so no code path can rewrite history.
 */
import { openStore, type Db, type Migration, type StoreOptions } from '../../../core/index.js';

export const GATEWAY_MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE users (
    jid TEXT PRIMARY KEY,
    admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    created_at INTEGER NOT NULL
  );
  CREATE TABLE groups (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  );
  CREATE TABLE user_groups (
    jid TEXT NOT NULL REFERENCES users(jid) ON DELETE CASCADE,
    grp TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
    PRIMARY KEY (jid, grp)
  ) WITHOUT ROWID;
  CREATE INDEX user_groups_grp ON user_groups(grp);

  CREATE TABLE contexts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT NOT NULL REFERENCES users(jid),
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    created_at INTEGER NOT NULL,
    UNIQUE (owner, name)
  );
  -- parent_* records where a clone came from; no foreign key, so the provenance
  -- survives the source being deleted.
  CREATE TABLE context_versions (
    context_id TEXT NOT NULL REFERENCES contexts(id) ON DELETE CASCADE,
    number INTEGER NOT NULL CHECK (number >= 1),
    created_at INTEGER NOT NULL,
    body TEXT,
    blob BLOB,
    parent_id TEXT,
    parent_version INTEGER,
    CHECK ((body IS NULL) <> (blob IS NULL)),
    PRIMARY KEY (context_id, number)
  );
  CREATE TRIGGER context_versions_immutable BEFORE UPDATE ON context_versions
  BEGIN SELECT RAISE(ABORT, 'context versions are immutable'); END;

  CREATE TABLE clusters (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT NOT NULL REFERENCES users(jid),
    ini TEXT NOT NULL,
    parsed TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (owner, name)
  );

  -- definition: the parsed cluster as deployed, so later edits of the definition do not
  -- change what a running deployment scales.
  CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    cluster TEXT NOT NULL,
    owner TEXT NOT NULL REFERENCES users(jid),
    definition TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'failed', 'aborted')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX deployments_owner ON deployments(owner, created_at);

  CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    cloud TEXT NOT NULL,
    cloud_instance_id TEXT,
    replica INTEGER NOT NULL DEFAULT 0 CHECK (replica IN (0, 1)),
    state TEXT NOT NULL CHECK (state IN ('requested', 'booting', 'running', 'draining', 'terminating', 'terminated', 'failed')),
    context_id TEXT,
    context_version INTEGER,
    ready INTEGER NOT NULL DEFAULT 0 CHECK (ready IN (0, 1)),
    last_heartbeat INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    FOREIGN KEY (context_id, context_version) REFERENCES context_versions(context_id, number),
    UNIQUE (deployment_id, name),
    UNIQUE (cloud, cloud_instance_id)
  );
  CREATE INDEX instances_deployment ON instances(deployment_id, service);

  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('deploy', 'scale', 'destroy', 'replace')),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    request TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX jobs_deployment ON jobs(deployment_id, created_at);
  CREATE INDEX jobs_state ON jobs(state);

  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    time INTEGER NOT NULL,
    type TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT
  );
  CREATE INDEX events_deployment ON events(deployment_id, seq);
  CREATE TRIGGER events_append_only BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
  `,
  // The orchestrator's bookkeeping: which allocation request created an instance (so a
  // restarted gateway re-sends the same request, de-duplicated by the cloud agent), the
  // instance agent's JID (the only sender trusted to speak for it) and why it ended;
  // per-service wanted counts (scale targets); when a deployment was destroyed; and the
  // position of the event publisher, so every event reaches PubSub exactly once in order.
  `
  ALTER TABLE instances ADD COLUMN request_id TEXT;
  ALTER TABLE instances ADD COLUMN jid TEXT;
  ALTER TABLE instances ADD COLUMN reason TEXT;
  CREATE INDEX instances_request ON instances(request_id);
  CREATE INDEX instances_jid ON instances(jid);
  CREATE INDEX instances_state ON instances(state);
  ALTER TABLE deployments ADD COLUMN destroyed_at INTEGER;

  CREATE TABLE deployment_services (
    deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    wanted INTEGER NOT NULL CHECK (wanted >= 0),
    PRIMARY KEY (deployment_id, service)
  ) WITHOUT ROWID;

  CREATE TABLE cursors (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  `,
  // Autoscaling per deployment and service: a policy set after deployment (JSON; NULL
  // keeps the definition's) and whether it is paused, and why (by whom, a manual scale).
  `
  CREATE TABLE autoscale (
    deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    policy TEXT,
    paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    note TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, service)
  ) WITHOUT ROWID;
  `,
  // The marketplace (market.ts): entries (a context version, or a cluster definition as it
  // was published), their tags and one vote per user. IF NOT EXISTS only because gateways
  // before this migration created the same tables when the marketplace started; their
  // rows are kept as they are.
  `
  CREATE TABLE IF NOT EXISTS market_entries (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('context', 'cluster')),
    context_id TEXT REFERENCES contexts(id) ON DELETE CASCADE,
    context_version INTEGER,
    cluster_ini TEXT,
    name TEXT NOT NULL,
    summary TEXT NOT NULL,
    description TEXT NOT NULL,
    encrypted INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (context_id, context_version)
  );
  CREATE TABLE IF NOT EXISTS market_tags (
    entry_id TEXT NOT NULL REFERENCES market_entries(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (entry_id, tag)
  );
  CREATE TABLE IF NOT EXISTS market_votes (
    entry_id TEXT NOT NULL REFERENCES market_entries(id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (-1, 1)),
    at INTEGER NOT NULL,
    PRIMARY KEY (entry_id, voter)
  );
  CREATE INDEX IF NOT EXISTS market_tags_tag ON market_tags(tag);
  `,
];

/** Opens (creating or migrating) the gateway database; ':memory:' for tests. */
export function openGatewayStore(file: string, opts: StoreOptions = {}): Db {
  return openStore(file, GATEWAY_MIGRATIONS, opts);
}
