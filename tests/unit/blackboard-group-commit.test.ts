// Grouped blackboard writes (the agent API's path) over a real SQLite file: concurrent
// writes share a commit, yet each succeeds or fails on its own, each is on disk (seen by
// a second connection) when its promise resolves, and its event-log row commits with it.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import { BlackboardStore, blackboardMigrations, VersionConflictError } from '../../src/mesh/blackboard/store.js';
import { EventLog, eventsMigrations } from '../../src/mesh/events/log.js';
import { createLogger } from '../../src/shared/logging.js';

let dir: string;
let db: Db;
let store: BlackboardStore;
let events: EventLog;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legion-bb-group-'));
  db = openMeshDb(join(dir, 'mesh.db'), [...blackboardMigrations, ...eventsMigrations]);
  store = new BlackboardStore(db);
  events = new EventLog(db, createLogger({}, { write: () => undefined }));
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What another process reading mesh.db sees: only committed rows. */
function committed<T>(sql: string): T[] {
  const reader = new Database(join(dir, 'mesh.db'), { readonly: true });
  try {
    return reader.prepare(sql).all() as T[];
  } finally {
    reader.close();
  }
}

const record = (key: string) => (result: { version: number }) =>
  events.record({ agent: 'a', kind: 'blackboard_write', subject: key, detail: { version: result.version } });

describe('grouped blackboard writes', () => {
  it('are committed, with their event rows, when they resolve', async () => {
    const results = await Promise.all(
      ['tasks/1', 'tasks/2', 'tasks/3'].map((key) => store.setGrouped({ key, value: key, writer: 'a' }, record(key))),
    );
    expect(results.map((r) => r.version)).toEqual([1, 1, 1]);
    expect(committed<{ key: string }>('SELECT key FROM blackboard_entries ORDER BY key').map((r) => r.key)).toEqual([
      'tasks/1',
      'tasks/2',
      'tasks/3',
    ]);
    expect(committed<{ subject: string }>('SELECT subject FROM events ORDER BY id').map((r) => r.subject)).toEqual([
      'tasks/1',
      'tasks/2',
      'tasks/3',
    ]);
  });

  it('fail one by one: a version conflict in a batch undoes only that write and its event', async () => {
    const outcomes = await Promise.allSettled([
      store.setGrouped({ key: 'tasks/x', value: 'first', writer: 'a', expected_version: 0 }, record('tasks/x')),
      store.setGrouped({ key: 'tasks/x', value: 'second', writer: 'b', expected_version: 0 }, record('tasks/x')),
      store.setGrouped({ key: 'tasks/y', value: 'other', writer: 'c' }, record('tasks/y')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const conflict = (outcomes[1] as PromiseRejectedResult).reason as VersionConflictError;
    expect(conflict).toBeInstanceOf(VersionConflictError);
    expect(conflict.currentVersion).toBe(1);
    expect(store.get('tasks/x')?.value).toBe('first');
    expect(committed<{ subject: string }>('SELECT subject FROM events ORDER BY id').map((r) => r.subject)).toEqual([
      'tasks/x',
      'tasks/y',
    ]);
    expect(store.history('tasks/x').map((c) => c.writer)).toEqual(['a']);
  });

  it('wake a watcher once committed, and deletes group too', async () => {
    await store.setGrouped({ key: 'signals/go', value: true, writer: 'a' });
    const since = store.lastSeq();
    const watching = store.waitForChanges('signals/', since, 5_000);
    const deleted = await store.deleteGrouped({ key: 'signals/go', writer: 'a', expected_version: 1 });
    expect(deleted).toEqual({ key: 'signals/go', deleted: true, version: 2 });
    const changes = await watching;
    expect(changes.map((c) => [c.key, c.op, c.version])).toEqual([['signals/go', 'delete', 2]]);
    expect(committed('SELECT key FROM blackboard_entries')).toEqual([]);
  });
});
