// Group commit: writes that arrive in the same turn of the event loop (under load, many
// agent-API requests are parsed in one poll phase) are applied in one SQLite transaction
// and committed once, instead of one commit each. Invariants: each write runs in its own
// savepoint, so one that throws (a version conflict) undoes only itself and fails only
// its own caller; a caller's promise settles only after the shared COMMIT returned (or
// failed, which fails every write of the batch), so nothing is acknowledged before it is
// as durable as a write of its own; the transaction opens and commits inside one
// synchronous call, never staying open across turns of the loop where other code runs.
import type { Db } from './db.js';

interface Pending {
  op: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommit {
  private pending: Pending[] = [];
  private readonly commitBatch: (batch: Pending[]) => Outcome[];

  constructor(db: Db) {
    // A better-sqlite3 transaction called inside another one runs as a savepoint.
    const savepoint = db.transaction((op: () => unknown) => op());
    this.commitBatch = db.transaction((batch: Pending[]) =>
      batch.map((write): Outcome => {
        try {
          return { ok: true, value: savepoint(write.op) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  }

  /** Runs `op` (synchronous SQLite work) in the next group transaction; resolves with its result once committed. */
  run<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.commitBatch(batch);
    } catch (error) {
      for (const write of batch) write.reject(error);
      return;
    }
    outcomes.forEach((outcome, i) => {
      const write = batch[i];
      if (!write) return;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }
}
