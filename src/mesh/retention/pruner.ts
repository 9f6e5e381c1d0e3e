// Keeps mesh.db bounded: at mesh start and every retention.interval_minutes, deletes
// the rows of each table past its age or beyond its count (tables.ts says which rows
// may go). Invariants: work is done in transactions of at most BATCH rows with a
// yield to the event loop between them, so requests are never held up for long; a
// failure is logged and retried at the next run, never thrown; rows are only deleted
// after what must outlive them is saved in the same transaction.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Db } from '../db.js';
import type { RetentionConfig } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logging.js';
import { retentionTables, type RetentionTable } from './tables.js';

const BATCH = 500;
const DAY_MS = 86_400_000;

export interface PrunerOptions {
  db: Db;
  config: () => RetentionConfig;
  timeZone: () => string;
  logger: Logger;
  now?: () => number;
}

export type PruneCounts = Partial<Record<RetentionTable['name'], number>>;

export class Pruner {
  private readonly options: PrunerOptions;
  private readonly tables: RetentionTable[];
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PruneCounts> | null = null;
  private stopped = false;

  constructor(options: PrunerOptions) {
    this.options = options;
    this.tables = retentionTables(options.db);
    this.now = options.now ?? Date.now;
  }

  /** Runs now, then every interval (re-read each time, so a mesh.yaml edit applies). */
  start(): void {
    const schedule = () => {
      if (this.stopped) return;
      this.timer = setTimeout(
        () => void this.runOnce().finally(schedule),
        this.options.config().interval_minutes * 60_000,
      );
      this.timer.unref();
    };
    void this.runOnce().finally(schedule);
  }

  /** One pass over every table; resolves with the rows deleted per table. Never rejects. */
  runOnce(): Promise<PruneCounts> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  /** Stops scheduling; a pass in progress ends after its current batch. */
  stop(): Promise<unknown> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    return this.running ?? Promise.resolve();
  }

  private async pass(): Promise<PruneCounts> {
    const counts: PruneCounts = {};
    for (const table of this.tables) {
      if (this.stopped) break;
      try {
        const deleted = await this.pruneTable(table);
        if (deleted > 0) counts[table.name] = deleted;
      } catch (err) {
        this.options.logger.error(
          { event: 'retention_failed', table: table.name, err },
          `pruning ${table.name} failed; it is retried at the next run`,
        );
      }
    }
    if (Object.keys(counts).length > 0)
      this.options.logger.info({ event: 'retention_pruned', deleted: counts }, 'pruned old rows from mesh.db');
    return counts;
  }

  private async pruneTable(table: RetentionTable): Promise<number> {
    const rule = this.options.config()[table.name];
    const ageCutoff = this.now() - rule.max_age_days * DAY_MS;
    const countCutoff = table.countCutoff(rule.max_rows);
    const expired = (row: { id: number; at: number }) => row.at < ageCutoff || row.id <= countCutoff;
    const { db } = this.options;
    let after = 0;
    let deleted = 0;
    while (!this.stopped) {
      const rows = table.batch(after, BATCH);
      const doomed = rows.filter((row) => expired(row) && (table.mayDelete?.(row.id) ?? true)).map((row) => row.id);
      if (doomed.length > 0) {
        db.transaction(() => table.remove(doomed, this.options.timeZone()))();
        deleted += doomed.length;
      }
      const last = rows.at(-1);
      // Rows come oldest first: past the first one that is young enough, none is left to prune.
      if (!last || rows.length < BATCH || !expired(last)) break;
      after = last.id;
      await yieldToEventLoop();
    }
    return deleted;
  }
}
