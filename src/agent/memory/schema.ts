// Tables of the memory index in agent.db. Invariants: memory_fts is an external-content
// FTS5 index over memory_chunks kept in step by triggers, so no code path can update
// one without the other; chunk ids are AUTOINCREMENT and never reused, so a vector
// left behind while sqlite-vec was unavailable can never be mistaken for a newer
// chunk (searches join vectors to live chunks); a chunk's heading and text are never
// updated in place (only its `embedded` flag), so no update trigger is needed. The
// vec0 table is not here: its dimension is the embedding model's, known only at run
// time (see vectors.ts). memory_dirs is the index's view of the workspace's directories
// (version 2): a row's mtime is only ever written from a stat taken before the directory
// was read, so a directory whose mtime differs from its row has entries the index has
// not seen (see index.ts).
import type { Migration } from '../../shared/sqlite.js';

export const MEMORY_MIGRATIONS: readonly Migration[] = [
  {
    domain: 'memory',
    version: 1,
    sql: `
      CREATE TABLE memory_files (
        path TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        mtime_ms REAL NOT NULL,
        size INTEGER NOT NULL,
        indexed_at_ms INTEGER NOT NULL
      );
      CREATE TABLE memory_chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL,
        start_line INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        heading TEXT NOT NULL,
        text TEXT NOT NULL,
        embedded INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX memory_chunks_path ON memory_chunks (path);
      CREATE INDEX memory_chunks_pending ON memory_chunks (embedded) WHERE embedded = 0;
      CREATE VIRTUAL TABLE memory_fts USING fts5 (
        heading, text,
        content = 'memory_chunks', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER memory_chunks_ai AFTER INSERT ON memory_chunks BEGIN
        INSERT INTO memory_fts (rowid, heading, text) VALUES (new.id, new.heading, new.text);
      END;
      CREATE TRIGGER memory_chunks_ad AFTER DELETE ON memory_chunks BEGIN
        INSERT INTO memory_fts (memory_fts, rowid, heading, text) VALUES ('delete', old.id, old.heading, old.text);
      END;
      CREATE TABLE memory_vector_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        model TEXT NOT NULL,
        dimensions INTEGER NOT NULL
      );
    `,
  },
  {
    domain: 'memory',
    version: 2,
    sql: `
      CREATE TABLE memory_dirs (
        path TEXT PRIMARY KEY,
        mtime_ms REAL NOT NULL,
        checked_at_ms INTEGER NOT NULL
      );
    `,
  },
];
