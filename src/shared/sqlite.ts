// SQLite as both the mesh (mesh.db) and the agent (agent.db) use it: each domain
// declares its tables as numbered migrations that run once, in order, each in its own
// transaction, recorded in schema_migrations. Migrating is idempotent, so every domain
// may apply its own list to an already open database.
import type Database from 'better-sqlite3';

export type Db = Database.Database;

export interface Migration {
  domain: string;
  version: number;
  sql: string;
}

export function migrate(db: Db, migrations: readonly Migration[]): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (domain TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (domain, version))',
  );
  const applied = db.prepare<[string, number], { n: number }>(
    'SELECT COUNT(*) AS n FROM schema_migrations WHERE domain = ? AND version = ?',
  );
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
