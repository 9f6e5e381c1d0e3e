// The blackboard: a JSON key-value store in mesh.db shared by the fleet. Invariants:
// - every change (set, delete, expire) bumps the key's version and appends one history
//   row in the same transaction; a key's versions only increase, also across
//   delete + recreate (the next version continues from the key's last history row);
// - history is append-only; its id is the change sequence number watchers follow;
// - an entry past expires_at reads as absent everywhere; gc() (or the next write to
//   that key) removes it and records an 'expire' change;
// - watchers are woken by an in-process emitter after each commit, never by polling;
// - the agent API's writes go through setGrouped/deleteGrouped: concurrent writes share
//   one commit (group-commit.ts) and each is answered only after it.
import { EventEmitter } from 'node:events';
import type { Db, Migration } from '../db.js';
import { GroupCommit } from '../group-commit.js';
import { LegionError, type LegionErrorBody } from '../../shared/errors.js';
import {
  BLACKBOARD_LIST_DEFAULT,
  BLACKBOARD_LIST_MAX,
  blackboardKeyProblem,
  blackboardPrefixProblem,
  measureBlackboardValue,
  type BlackboardChange,
  type BlackboardDeleteResult,
  type BlackboardEntry,
  type BlackboardOp,
  type BlackboardPage,
  type BlackboardWriteResult,
  type JsonValue,
} from '../../shared/wire/blackboard.js';

// Conventional namespaces. They are only key prefixes, nothing enforces them:
// tasks/ work items and their state; context/ shared facts the fleet builds on;
// signals/ small flags agents poll or watch; history/ records of what was done;
// artifacts/<agent>/ pointers to files agents saved (save_artifact).

/** Who an 'expire' change is attributed to. */
const EXPIRY_WRITER = 'mesh';

/** How many rows one filtered list may examine before handing back a cursor. */
const MAX_SCANNED_PER_LIST = 5000;

export const blackboardMigrations: Migration[] = [
  {
    domain: 'blackboard',
    version: 1,
    // expires_at is epoch milliseconds so expiry is one integer comparison; the API shows ISO text.
    sql: `CREATE TABLE blackboard_entries (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      version INTEGER NOT NULL,
      writer TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      expires_at INTEGER
    );
    CREATE INDEX blackboard_entries_expiry ON blackboard_entries (expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE blackboard_history (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      key TEXT NOT NULL,
      version INTEGER NOT NULL,
      op TEXT NOT NULL CHECK (op IN ('set', 'delete', 'expire')),
      value TEXT,
      writer TEXT NOT NULL,
      at TEXT NOT NULL
    );
    CREATE INDEX blackboard_history_key ON blackboard_history (key, id);`,
  },
];

export interface SetInput {
  key: string;
  value: JsonValue;
  writer: string;
  /** The write succeeds only if the key is at this version now; 0 = it must not exist. */
  expected_version?: number;
  ttl_s?: number;
}

export interface DeleteInput {
  key: string;
  writer: string;
  expected_version?: number;
}

export interface ListInput {
  prefix: string;
  limit?: number;
  /** The last key of the previous page. */
  cursor?: string;
  /** Only keys it accepts are returned (the caller's read permission); the cursor still moves past the others. */
  visible?: (key: string) => boolean;
}

export interface BlackboardStoreOptions {
  /** Epoch milliseconds; tests pass a clock they control. */
  now?: () => number;
}

interface EntryRow {
  key: string;
  value: string;
  version: number;
  writer: string;
  updated_at: string;
  expires_at: number | null;
}

interface HistoryRow {
  id: number;
  key: string;
  version: number;
  op: BlackboardOp;
  value: string | null;
  writer: string;
  at: string;
}

/** A stale expected_version. The body carries current_version for programs; the message says it for people. */
export class VersionConflictError extends LegionError {
  readonly currentVersion: number;

  constructor(key: string, currentVersion: number, expectedVersion: number) {
    const message =
      currentVersion === 0
        ? `${key} does not exist (version 0), not version ${expectedVersion}`
        : expectedVersion === 0
          ? `${key} already exists at version ${currentVersion} (expected_version 0 means it must not exist)`
          : `${key} is at version ${currentVersion}, not ${expectedVersion}`;
    super('version_conflict', `${message}; read it again and retry with expected_version ${currentVersion}`);
    this.currentVersion = currentVersion;
  }

  override toBody(): LegionErrorBody & { current_version: number } {
    return { ...super.toBody(), current_version: this.currentVersion };
  }
}

function checkKey(key: string): void {
  const problem = blackboardKeyProblem(key);
  if (problem) throw new LegionError('invalid_key', `invalid blackboard key ${JSON.stringify(key)}: ${problem}`);
}

function checkPrefix(prefix: string): void {
  const problem = blackboardPrefixProblem(prefix);
  if (problem) throw new LegionError('invalid_key', `invalid blackboard prefix ${JSON.stringify(prefix)}: ${problem}`);
}

function clampLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? BLACKBOARD_LIST_DEFAULT), 1), BLACKBOARD_LIST_MAX);
}

/**
 * The exclusive upper bound of the keys starting with `prefix`: keys only hold
 * characters below "~" (0x7E), so prefix + "~" sorts after every one of them and the
 * primary-key index answers the range (LIKE would treat "_" as a wildcard).
 */
function prefixEnd(prefix: string): string {
  return `${prefix}~`;
}

function toEntry(row: EntryRow): BlackboardEntry {
  return {
    key: row.key,
    value: JSON.parse(row.value) as JsonValue,
    version: row.version,
    writer: row.writer,
    updated_at: row.updated_at,
    expires_at: row.expires_at === null ? null : new Date(row.expires_at).toISOString(),
  };
}

function toChange(row: HistoryRow): BlackboardChange {
  return {
    seq: row.id,
    key: row.key,
    version: row.version,
    op: row.op,
    value: row.value === null ? null : (JSON.parse(row.value) as JsonValue),
    writer: row.writer,
    at: row.at,
  };
}

// Prepared once: the agent API serves thousands of reads and writes a second.
function prepareStatements(db: Db) {
  return {
    entry: db.prepare<[string], EntryRow>('SELECT * FROM blackboard_entries WHERE key = ?'),
    lastVersion: db.prepare<[string], { version: number }>(
      'SELECT version FROM blackboard_history WHERE key = ? ORDER BY id DESC LIMIT 1',
    ),
    upsert: db.prepare<[string, string, number, string, string, number | null]>(
      `INSERT INTO blackboard_entries (key, value, version, writer, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version, writer = excluded.writer,
         updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
    ),
    remove: db.prepare<[string]>('DELETE FROM blackboard_entries WHERE key = ?'),
    appendHistory: db.prepare<[string, number, BlackboardOp, string | null, string, string]>(
      'INSERT INTO blackboard_history (key, version, op, value, writer, at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    // One lower bound only: SQLite seeks the primary-key index to it, so a page costs
    // O(log n) at any cursor depth (two lower bounds would make it seek to the first).
    listFirstPage: db.prepare<[string, string, number, number], EntryRow>(
      `SELECT * FROM blackboard_entries WHERE key >= ? AND key < ? AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY key LIMIT ?`,
    ),
    listPageAfter: db.prepare<[string, string, number, number], EntryRow>(
      `SELECT * FROM blackboard_entries WHERE key > ? AND key < ? AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY key LIMIT ?`,
    ),
    historyNewestFirst: db.prepare<[string, number], HistoryRow>(
      'SELECT * FROM blackboard_history WHERE key = ? ORDER BY id DESC LIMIT ?',
    ),
    changesSince: db.prepare<[number, string, string, number], HistoryRow>(
      'SELECT * FROM blackboard_history WHERE id > ? AND key >= ? AND key < ? ORDER BY id LIMIT ?',
    ),
    lastSeq: db.prepare<[], { seq: number | null }>('SELECT MAX(id) AS seq FROM blackboard_history'),
    expired: db.prepare<[number], EntryRow>(
      'SELECT * FROM blackboard_entries WHERE expires_at IS NOT NULL AND expires_at <= ?',
    ),
  };
}

export class BlackboardStore {
  private readonly now: () => number;
  /** Emits 'changed' with the keys of each committed transaction. */
  private readonly emitter = new EventEmitter();
  private readonly stmts: ReturnType<typeof prepareStatements>;
  private readonly setTx: (input: SetInput, inTx?: (result: BlackboardWriteResult) => void) => BlackboardWriteResult;
  private readonly deleteTx: (
    input: DeleteInput,
    inTx?: (result: BlackboardDeleteResult) => void,
  ) => BlackboardDeleteResult;
  private readonly gcTx: () => string[];
  private readonly group: GroupCommit;

  constructor(db: Db, options: BlackboardStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.emitter.setMaxListeners(0);
    this.stmts = prepareStatements(db);
    this.group = new GroupCommit(db);
    this.setTx = db.transaction((input: SetInput, inTx?: (result: BlackboardWriteResult) => void) => {
      const result = this.setInTx(input);
      inTx?.(result);
      return result;
    });
    this.deleteTx = db.transaction((input: DeleteInput, inTx?: (result: BlackboardDeleteResult) => void) => {
      const result = this.deleteInTx(input);
      inTx?.(result);
      return result;
    });
    this.gcTx = db.transaction(() => {
      const now = this.now();
      return this.stmts.expired.all(now).map((row) => {
        this.expireInTx(row, now);
        return row.key;
      });
    });
  }

  /** The live entry, or null when absent or expired. */
  get(key: string): BlackboardEntry | null {
    const row = this.stmts.entry.get(key);
    if (!row || this.isExpired(row, this.now())) return null;
    return toEntry(row);
  }

  /**
   * Writes `value` as the next version; throws VersionConflictError (409) on a stale
   * expected_version. `inTx` runs inside the write's transaction (recording the write in
   * the event log there makes the two one commit: both land, or neither).
   */
  set(input: SetInput, inTx?: (result: BlackboardWriteResult) => void): BlackboardWriteResult {
    checkKey(input.key);
    const result = this.setTx(input, inTx);
    this.emitter.emit('changed', [input.key]);
    return result;
  }

  /** Deletes a live entry; 404 when there is none, 409 on a stale expected_version. `inTx` as for set(). */
  delete(input: DeleteInput, inTx?: (result: BlackboardDeleteResult) => void): BlackboardDeleteResult {
    checkKey(input.key);
    const result = this.deleteTx(input, inTx);
    this.emitter.emit('changed', [input.key]);
    return result;
  }

  /**
   * set(), committed together with the other writes of this turn of the event loop (one
   * commit for many concurrent writers, see GroupCommit); settles once committed.
   */
  async setGrouped(input: SetInput, inTx?: (result: BlackboardWriteResult) => void): Promise<BlackboardWriteResult> {
    checkKey(input.key);
    const result = await this.group.run(() => this.setTx(input, inTx));
    this.emitter.emit('changed', [input.key]);
    return result;
  }

  /** delete(), grouped as setGrouped() is. */
  async deleteGrouped(
    input: DeleteInput,
    inTx?: (result: BlackboardDeleteResult) => void,
  ): Promise<BlackboardDeleteResult> {
    checkKey(input.key);
    const result = await this.group.run(() => this.deleteTx(input, inTx));
    this.emitter.emit('changed', [input.key]);
    return result;
  }

  /** Live entries under `prefix` in key order, a page at a time. */
  list(input: ListInput): BlackboardPage {
    checkPrefix(input.prefix);
    const limit = clampLimit(input.limit);
    const now = this.now();
    const end = prefixEnd(input.prefix);
    const entries: BlackboardEntry[] = [];
    let after = input.cursor ?? '';
    let scanned = 0;
    for (;;) {
      // One row past the limit tells whether another page exists without a COUNT.
      const rows =
        after < input.prefix
          ? this.stmts.listFirstPage.all(input.prefix, end, now, limit + 1)
          : this.stmts.listPageAfter.all(after, end, now, limit + 1);
      for (const row of rows) {
        if (input.visible && !input.visible(row.key)) {
          scanned += 1;
          after = row.key;
          continue;
        }
        if (entries.length === limit) return { entries, next_cursor: after };
        entries.push(toEntry(row));
        scanned += 1;
        after = row.key;
      }
      if (rows.length <= limit) return { entries, next_cursor: null };
      // Reached only when `visible` hid rows: stop a sparse scan and let the caller continue.
      if (scanned >= MAX_SCANNED_PER_LIST) return { entries, next_cursor: after };
    }
  }

  /** A key's changes, newest first (what happened lately is what a reader wants). */
  history(key: string, options: { limit?: number } = {}): BlackboardChange[] {
    checkKey(key);
    return this.stmts.historyNewestFirst.all(key, clampLimit(options.limit)).map(toChange);
  }

  /** Changes after `seq` to keys under `prefix`, oldest first. */
  changesSince(seq: number, prefix: string, limit = BLACKBOARD_LIST_MAX): BlackboardChange[] {
    checkPrefix(prefix);
    return this.stmts.changesSince.all(seq, prefix, prefixEnd(prefix), clampLimit(limit)).map(toChange);
  }

  /** The newest change's sequence number (0 before the first change). */
  lastSeq(): number {
    return this.stmts.lastSeq.get()?.seq ?? 0;
  }

  /** Removes expired entries, recording an 'expire' change for each; returns how many. */
  gc(): number {
    const keys = this.gcTx();
    if (keys.length > 0) this.emitter.emit('changed', keys);
    return keys.length;
  }

  /**
   * Resolves with the changes under `prefix` after `sinceSeq` as soon as there are
   * any, or with [] after `timeoutMs` or when `signal` aborts.
   */
  waitForChanges(
    prefix: string,
    sinceSeq: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<BlackboardChange[]> {
    const ready = this.changesSince(sinceSeq, prefix);
    if (ready.length > 0 || timeoutMs <= 0 || signal?.aborted) return Promise.resolve(ready);
    // better-sqlite3 is synchronous, so no write can commit between the query above and the listener below.
    return new Promise((resolve) => {
      const finish = (changes: BlackboardChange[]) => {
        clearTimeout(timer);
        this.emitter.off('changed', onChanged);
        signal?.removeEventListener('abort', onAbort);
        resolve(changes);
      };
      const onChanged = (keys: string[]) => {
        if (!keys.some((key) => key.startsWith(prefix))) return;
        const changes = this.changesSince(sinceSeq, prefix);
        if (changes.length > 0) finish(changes);
      };
      const onAbort = () => finish([]);
      const timer = setTimeout(() => finish([]), timeoutMs);
      this.emitter.on('changed', onChanged);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private isExpired(row: EntryRow, now: number): boolean {
    return row.expires_at !== null && row.expires_at <= now;
  }

  /** The live row of `key`; an expired one is expired on the spot so the next version follows it. */
  private liveRowInTx(key: string, now: number): EntryRow | null {
    const row = this.stmts.entry.get(key);
    if (!row) return null;
    if (!this.isExpired(row, now)) return row;
    this.expireInTx(row, now);
    return null;
  }

  private expireInTx(row: EntryRow, now: number): void {
    this.stmts.remove.run(row.key);
    this.stmts.appendHistory.run(row.key, row.version + 1, 'expire', null, EXPIRY_WRITER, new Date(now).toISOString());
  }

  private setInTx(input: SetInput): BlackboardWriteResult {
    const measured = measureBlackboardValue(input.value);
    if ('problem' in measured)
      throw new LegionError('value_too_large', `cannot store ${input.key}: ${measured.problem}`);
    const now = this.now();
    const live = this.liveRowInTx(input.key, now);
    const current = live?.version ?? 0;
    if (input.expected_version !== undefined && input.expected_version !== current) {
      throw new VersionConflictError(input.key, current, input.expected_version);
    }
    const version = (live ? live.version : (this.stmts.lastVersion.get(input.key)?.version ?? 0)) + 1;
    const updatedAt = new Date(now).toISOString();
    const expiresAt = input.ttl_s === undefined ? null : now + input.ttl_s * 1000;
    this.stmts.upsert.run(input.key, measured.json, version, input.writer, updatedAt, expiresAt);
    this.stmts.appendHistory.run(input.key, version, 'set', measured.json, input.writer, updatedAt);
    return {
      key: input.key,
      version,
      writer: input.writer,
      updated_at: updatedAt,
      expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    };
  }

  private deleteInTx(input: DeleteInput): BlackboardDeleteResult {
    const now = this.now();
    const live = this.liveRowInTx(input.key, now);
    const current = live?.version ?? 0;
    if (input.expected_version !== undefined && input.expected_version !== current) {
      throw new VersionConflictError(input.key, current, input.expected_version);
    }
    if (!live) throw new LegionError('not_found', `no blackboard entry ${input.key}`);
    const version = live.version + 1;
    this.stmts.remove.run(input.key);
    this.stmts.appendHistory.run(input.key, version, 'delete', null, input.writer, new Date(now).toISOString());
    return { key: input.key, deleted: true, version };
  }
}

/** Runs store.gc() every `intervalMs` until the returned function is called; never keeps the process alive. */
export function startBlackboardGc(
  store: BlackboardStore,
  intervalMs: number,
  onError: (err: unknown) => void = (err) =>
    process.emitWarning(`blackboard gc failed: ${err instanceof Error ? err.message : String(err)}`),
): () => void {
  const timer = setInterval(() => {
    try {
      store.gc();
    } catch (err) {
      onError(err);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
