// The agent's one SQLite database, <dataDir>/agent.db, in WAL mode. Invariants: each
// agent domain (memory now; sessions and task results later) declares its tables as
// numbered migrations that run once, in order, each in its own transaction, recorded
// in schema_migrations; migrating is idempotent, so every domain may apply its own
// list to an already open database. sqlite-vec is optional: when it cannot be loaded
// the database still opens, and `vectors` says why, so search falls back to BM25.
// The agent never imports src/mesh, so this mirrors src/mesh/db.ts rather than using it.
import Database from 'better-sqlite3';
import path from 'node:path';
import * as sqliteVec from 'sqlite-vec';

export type Db = Database.Database;

export interface AgentMigration {
  domain: string;
  version: number;
  sql: string;
}

export type VectorSupport = { available: true; version: string } | { available: false; reason: string };

export interface AgentDb {
  db: Db;
  vectors: VectorSupport;
}

export interface OpenAgentDbOptions {
  migrations?: readonly AgentMigration[];
  /** false skips sqlite-vec (BM25 only), as if it were not installed. */
  loadVectors?: boolean;
}

export const AGENT_DB_FILE = 'agent.db';

export function openAgentDb(dataDir: string, options: OpenAgentDbOptions = {}): AgentDb {
  const db = new Database(path.join(dataDir, AGENT_DB_FILE));
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a killed process (only a power loss can drop the last commits).
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const vectors = options.loadVectors === false ? { available: false as const, reason: 'sqlite-vec disabled' } : loadVectorExtension(db);
  migrateAgentDb(db, options.migrations ?? []);
  return { db, vectors };
}

function loadVectorExtension(db: Db): VectorSupport {
  try {
    sqliteVec.load(db);
    const row = db.prepare<[], { version: string }>('SELECT vec_version() AS version').get();
    return { available: true, version: row?.version ?? 'unknown' };
  } catch (err) {
    return { available: false, reason: `sqlite-vec could not be loaded: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export function migrateAgentDb(db: Db, migrations: readonly AgentMigration[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (domain TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (domain, version))');
  const applied = db.prepare<[string, number], { n: number }>('SELECT COUNT(*) AS n FROM schema_migrations WHERE domain = ? AND version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (domain, version, applied_at) VALUES (?, ?, ?)');
  const ordered = [...migrations].sort((a, b) => a.domain.localeCompare(b.domain) || a.version - b.version);
  for (const migration of ordered) {
    if ((applied.get(migration.domain, migration.version)?.n ?? 0) > 0) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.domain, migration.version, new Date().toISOString());
    })();
  }
}
