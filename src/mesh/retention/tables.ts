// What retention prunes, one rule set per table: which rows may go (finished lane
// items only; never the newest change of a blackboard key that no longer exists, so
// a recreated key's versions keep increasing), how a row's age is read, and what is
// saved before a row goes (per-call costs are first added to cost_daily).
import type { Db } from '../db.js';
import type { RetentionConfig } from '../../shared/config/schema.js';
import { periodKeys, reportRange } from '../costs/periods.js';

export interface PrunedRow {
  id: number;
  /** Epoch ms of the row's time (created, finished, received). */
  at: number;
}

export interface RetentionTable {
  name: keyof Omit<RetentionConfig, 'interval_minutes'>;
  /** Up to `limit` prunable candidates with id > `after`, oldest first. */
  batch: (after: number, limit: number) => PrunedRow[];
  /** The id of the newest row beyond the count limit (0 when within it). */
  countCutoff: (maxRows: number) => number;
  /** false: this row must stay whatever its age. */
  mayDelete?: (id: number) => boolean;
  /** Deletes the rows (inside the pruner's transaction), after saving what must outlive them. */
  remove: (ids: number[], timeZone: string) => void;
}

const isoMs = (text: string | null): number => (text === null ? 0 : Date.parse(text));

function cutoffById(db: Db, sql: string): (maxRows: number) => number {
  const stmt = db.prepare<[number], { id: number }>(sql);
  return (maxRows) => stmt.get(maxRows)?.id ?? 0;
}

function deleter(db: Db, sql: string): (ids: number[]) => void {
  const stmt = db.prepare<[number]>(sql);
  return (ids) => {
    for (const id of ids) stmt.run(id);
  };
}

export function retentionTables(db: Db): RetentionTable[] {
  const historyRow = db.prepare<[number, number], { id: number; at: string }>(
    'SELECT id, at FROM blackboard_history WHERE id > ? ORDER BY id LIMIT ?',
  );
  const historyKey = db.prepare<[number], { key: string }>('SELECT key FROM blackboard_history WHERE id = ?');
  const liveEntry = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM blackboard_entries WHERE key = ?');
  const newerChange = db.prepare<[string, number], { one: number }>(
    'SELECT 1 AS one FROM blackboard_history WHERE key = ? AND id > ? LIMIT 1',
  );
  const eventRow = db.prepare<[number, number], { id: number; at: string }>(
    'SELECT id, at FROM events WHERE id > ? ORDER BY id LIMIT ?',
  );
  const laneRow = db.prepare<[number, number], { id: number; at: string | null }>(
    "SELECT seq AS id, finished_at AS at FROM lane_items WHERE seq > ? AND status IN ('done', 'failed') ORDER BY seq LIMIT ?",
  );
  const deliveryRow = db.prepare<[number, number], { id: number; at: string }>(
    'SELECT rowid AS id, received_at AS at FROM webhook_deliveries WHERE rowid > ? ORDER BY rowid LIMIT ?',
  );
  const costRow = db.prepare<[number, number], PrunedRow>(
    'SELECT id, at FROM cost_usage WHERE id > ? ORDER BY id LIMIT ?',
  );
  const costFull = db.prepare<
    [number],
    {
      at: number;
      agent: string;
      provider: string;
      model: string;
      outcome: string;
      prompt_tokens: number;
      completion_tokens: number;
      cost_nano: number;
    }
  >(
    'SELECT at, agent, provider, model, outcome, prompt_tokens, completion_tokens, cost_nano FROM cost_usage WHERE id = ?',
  );
  const rollUp = db.prepare<[string, number, string, string, string, number, number, number, number]>(
    `INSERT INTO cost_daily (day, day_start, agent, provider, model, calls, failed, prompt_tokens, completion_tokens, cost_nano)
     VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
     ON CONFLICT (day_start, agent, provider, model) DO UPDATE SET calls = calls + 1, failed = failed + excluded.failed,
       prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens,
       cost_nano = cost_nano + excluded.cost_nano`,
  );
  const deleteCost = deleter(db, 'DELETE FROM cost_usage WHERE id = ?');
  const toRows = (rows: { id: number; at: string | null }[]): PrunedRow[] =>
    rows.map((r) => ({ id: r.id, at: isoMs(r.at) }));
  return [
    {
      name: 'blackboard_history',
      batch: (after, limit) => toRows(historyRow.all(after, limit)),
      countCutoff: cutoffById(db, 'SELECT id FROM blackboard_history ORDER BY id DESC LIMIT 1 OFFSET ?'),
      mayDelete: (id) => {
        const key = historyKey.get(id)?.key;
        return key !== undefined && (liveEntry.get(key) !== undefined || newerChange.get(key, id) !== undefined);
      },
      remove: deleter(db, 'DELETE FROM blackboard_history WHERE id = ?'),
    },
    {
      name: 'events',
      batch: (after, limit) => toRows(eventRow.all(after, limit)),
      countCutoff: cutoffById(db, 'SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?'),
      remove: deleter(db, 'DELETE FROM events WHERE id = ?'),
    },
    {
      name: 'lane_items',
      batch: (after, limit) => toRows(laneRow.all(after, limit)),
      countCutoff: cutoffById(
        db,
        "SELECT seq AS id FROM lane_items WHERE status IN ('done', 'failed') ORDER BY seq DESC LIMIT 1 OFFSET ?",
      ),
      remove: deleter(db, 'DELETE FROM lane_items WHERE seq = ?'),
    },
    {
      name: 'webhook_deliveries',
      batch: (after, limit) => toRows(deliveryRow.all(after, limit)),
      countCutoff: cutoffById(db, 'SELECT rowid AS id FROM webhook_deliveries ORDER BY rowid DESC LIMIT 1 OFFSET ?'),
      remove: deleter(db, 'DELETE FROM webhook_deliveries WHERE rowid = ?'),
    },
    {
      name: 'llm_calls',
      batch: (after, limit) => costRow.all(after, limit),
      countCutoff: cutoffById(db, 'SELECT id FROM cost_usage ORDER BY id DESC LIMIT 1 OFFSET ?'),
      remove: (ids, timeZone) => {
        const dayStarts = new Map<string, number>();
        for (const id of ids) {
          const row = costFull.get(id);
          if (!row) continue;
          const day = periodKeys(row.at, timeZone).day;
          let dayStart = dayStarts.get(day);
          if (dayStart === undefined) {
            dayStart = reportRange('today', row.at, timeZone).fromMs;
            dayStarts.set(day, dayStart);
          }
          rollUp.run(
            day,
            dayStart,
            row.agent,
            row.provider,
            row.model,
            row.outcome === 'ok' ? 0 : 1,
            row.prompt_tokens,
            row.completion_tokens,
            row.cost_nano,
          );
        }
        deleteCost(ids);
      },
    },
  ];
}
