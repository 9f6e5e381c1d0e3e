// The agent's one SQLite database, <dataDir>/agent.db, in WAL mode. Invariants: each
// agent domain (memory now; sessions and task results later) declares its tables as
// numbered migrations that run once, in order, each in its own transaction, recorded
// in schema_migrations; migrating is idempotent, so every domain may apply its own
// list to an already open database. sqlite-vec is optional: when it cannot be loaded
// the database still opens, and `vectors` says why, so search falls back to BM25.
import Database from 'better-sqlite3';
import { migrate, type Db, type Migration } from '../../shared/sqlite.js';
import path from 'node:path';
import * as sqliteVec from 'sqlite-vec';

export type { Db, Migration };

export type VectorSupport = { available: true; version: string } | { available: false; reason: string };

export interface AgentDb {
  db: Db;
  vectors: VectorSupport;
}

export interface OpenAgentDbOptions {
  migrations?: readonly Migration[];
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
  const vectors =
    options.loadVectors === false
      ? { available: false as const, reason: 'sqlite-vec disabled' }
      : loadVectorExtension(db);
  migrate(db, options.migrations ?? []);
  return { db, vectors };
}

function loadVectorExtension(db: Db): VectorSupport {
  try {
    sqliteVec.load(db);
    const row = db.prepare<[], { version: string }>('SELECT vec_version() AS version').get();
    return { available: true, version: row?.version ?? 'unknown' };
  } catch (err) {
    return {
      available: false,
      reason: `sqlite-vec could not be loaded: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
