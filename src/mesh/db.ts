// The mesh's one SQLite database, .legion/mesh.db, in WAL mode. Each domain owns its
// tables and declares them as numbered migrations; a migration runs once, in order,
// in its own transaction, and is recorded in schema_migrations.
import Database from 'better-sqlite3';

export type Db = Database.Database;

export interface Migration {
  domain: string;
  version: number;
  sql: string;
}

export function openMeshDb(path: string, migrations: readonly Migration[]): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a killed process (only a power loss can drop the last commits).
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations);
  return db;
}

export function migrate(db: Db, migrations: readonly Migration[]): void {
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
