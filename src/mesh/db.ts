// The mesh's one SQLite database, .legion/mesh.db, in WAL mode. Each domain owns its
// tables and declares them as migrations (src/shared/sqlite.ts).
import Database from 'better-sqlite3';
import { migrate, type Db, type Migration } from '../shared/sqlite.js';

export type { Db, Migration };

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
