// The event log: an append-only audit trail of what happened in the mesh (blackboard
// writes, publishes, deliveries, messages, denials, agent lifecycle). Recording never
// throws into the caller's path; a failure to record is logged instead.
import { EventEmitter } from 'node:events';
import type { Statement } from 'better-sqlite3';
import type { Db, Migration } from '../db.js';
import type { Logger } from '../../shared/logging.js';
import type { EventEntry } from '../../shared/wire/events.js';

export const eventsMigrations: Migration[] = [
  {
    domain: 'events',
    version: 1,
    sql: `CREATE TABLE events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      agent TEXT,
      kind TEXT NOT NULL,
      subject TEXT NOT NULL,
      detail TEXT,
      trace TEXT
    );
    CREATE INDEX events_agent ON events (agent, id);`,
  },
];

export interface NewEvent {
  agent: string | null;
  kind: string;
  subject: string;
  detail?: unknown;
  trace?: string | null;
}

interface EventRow {
  id: number;
  at: string;
  agent: string | null;
  kind: string;
  subject: string;
  detail: string | null;
  trace: string | null;
}

export class EventLog {
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly emitter = new EventEmitter();
  // Prepared on first use (after the migrations made the table), then reused: the agent
  // API records an event per blackboard write, thousands a second.
  private insertStatement: Statement<[string, string | null, string, string, string | null, string | null]> | null =
    null;

  constructor(db: Db, logger: Logger) {
    this.db = db;
    this.logger = logger;
    this.emitter.setMaxListeners(0);
  }

  /** Appends one event; called inside an open transaction, the row commits (or rolls back) with it. */
  record(event: NewEvent): void {
    try {
      this.insertStatement ??= this.db.prepare(
        'INSERT INTO events (at, agent, kind, subject, detail, trace) VALUES (?, ?, ?, ?, ?, ?)',
      );
      this.insertStatement.run(
        new Date().toISOString(),
        event.agent,
        event.kind,
        event.subject,
        event.detail === undefined ? null : JSON.stringify(event.detail),
        event.trace ?? null,
      );
      this.emitter.emit('recorded');
    } catch (err) {
      this.logger.error({ err, event: 'event_log_failed', kind: event.kind }, 'could not record an event');
    }
  }

  /** Events after `afterId`, oldest first, optionally of one agent. */
  list(options: { afterId?: number; agent?: string; limit?: number }): EventEntry[] {
    const limit = Math.min(Math.max(options.limit ?? 200, 1), 1000);
    const rows = options.agent
      ? this.db
          .prepare<[number, string, number], EventRow>(
            'SELECT * FROM events WHERE id > ? AND agent = ? ORDER BY id LIMIT ?',
          )
          .all(options.afterId ?? 0, options.agent, limit)
      : this.db
          .prepare<[number, number], EventRow>('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?')
          .all(options.afterId ?? 0, limit);
    return rows.map((row) => ({ ...row, detail: row.detail === null ? null : (JSON.parse(row.detail) as unknown) }));
  }

  /** The newest `limit` events (oldest first), for a first screen of `legion logs`. */
  tail(options: { agent?: string; limit: number }): EventEntry[] {
    const newest = options.agent
      ? this.db.prepare<[string], { id: number }>('SELECT MAX(id) AS id FROM events WHERE agent = ?').get(options.agent)
      : this.db.prepare<[], { id: number }>('SELECT MAX(id) AS id FROM events').get();
    const top = newest?.id ?? 0;
    return this.list({
      afterId: Math.max(top - options.limit * 4, 0),
      ...(options.agent ? { agent: options.agent } : {}),
      limit: 1000,
    }).slice(-options.limit);
  }

  /** Resolves when a new event is recorded or after `ms`, whichever is first. */
  waitForNext(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off('recorded', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.once('recorded', done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
