// Lanes: one durable FIFO per agent in mesh.db. Every pub/sub delivery, routed
// message, trigger and chat turn is a row here before anyone is told it was accepted,
// so a mesh restart or a container crash loses nothing. An item is handled at most one
// at a time per agent; interactive items (chat) are claimed before older background
// ones; an agent's queued and in-flight items never exceed the depth cap (enqueue
// throws lane_full instead). A background item that was in flight when the mesh died
// goes back to the queue with its id, so the agent can tell a repeat; a chat turn
// does not, since the person who waited for it left with the mesh.
import type { Db, Migration } from '../db.js';
import { newId } from '../../shared/ids.js';
import type { LaneItemKind } from '../../shared/wire/fleet.js';
import type { LaneStatus as LaneStatusView } from '../../shared/wire/admin.js';
import { DEFAULT_LANE_DEPTH_CAP } from '../../shared/config/schema.js';
import { laneRoom } from './policy.js';

export const lanesMigrations: Migration[] = [
  {
    domain: 'lanes',
    version: 1,
    sql: `CREATE TABLE lane_items (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      agent TEXT NOT NULL,
      kind TEXT NOT NULL,
      body TEXT NOT NULL,
      status TEXT NOT NULL DEFAULT 'queued',
      attempts INTEGER NOT NULL DEFAULT 0,
      not_before TEXT,
      trace TEXT,
      created_at TEXT NOT NULL,
      started_at TEXT,
      finished_at TEXT,
      last_error TEXT,
      reply TEXT
    );
    CREATE INDEX lane_items_queue ON lane_items (agent, status, seq);`,
  },
  {
    // error_code tells a turn cut short (the person left, the mesh stopped) from one that
    // failed; the index serves an agent's history, newest first.
    domain: 'lanes',
    version: 2,
    sql: `ALTER TABLE lane_items ADD COLUMN error_code TEXT;
    CREATE INDEX lane_items_agent ON lane_items (agent, seq);`,
  },
];

/** The code a chat turn that the mesh's stop cut short fails with. */
export const MESH_STOPPED_CODE = 'mesh_stopped';

export type LaneStatus = 'queued' | 'inflight' | 'done' | 'failed';

/** Ids say what an item is, so a person reading a log line or the agent a message can tell. */
const LANE_ID_PREFIX: Record<LaneItemKind, string> = {
  chat: 'chat',
  event: 'dlv',
  message: 'msgd',
  cron: 'cronr',
  heartbeat: 'beat',
  webhook: 'whd',
  watcher: 'watch',
  task: 'step',
  channel: 'chan',
};

export interface LaneItem {
  seq: number;
  id: string;
  agent: string;
  kind: LaneItemKind;
  body: unknown;
  status: LaneStatus;
  attempts: number;
  trace: string | null;
  created_at: string;
}

interface LaneRow extends Omit<LaneItem, 'body'> {
  body: string;
}

/** A lane item as its agent's history shows it: what it was, how it ended. */
export interface LaneHistoryRow extends LaneItem {
  reply: string | null;
  last_error: string | null;
  error_code: string | null;
  finished_at: string | null;
}

export interface LaneHistoryQuery {
  limit: number;
  /** Only items older than this seq (the cursor of the previous page). */
  before?: number;
}

const now = () => new Date().toISOString();

/** Claim order: a person waits on chat and channel items, so they go first; then arrival.
 *  Kept in SQL so a claim is one statement. */
const CLAIM_ORDER = "CASE kind WHEN 'chat' THEN 0 WHEN 'channel' THEN 0 ELSE 1 END, seq";

export class LaneStore {
  private readonly db: Db;
  private readonly depthCap: () => number;

  /** `depthCap` is read at each enqueue, so a config reload applies to the next item. */
  constructor(db: Db, depthCap: () => number = () => DEFAULT_LANE_DEPTH_CAP) {
    this.db = db;
    this.depthCap = depthCap;
  }

  /** Adds an item to `agent`'s lane; call inside the caller's transaction to make it atomic
   *  with its own rows. Throws lane_full (429) when the lane holds mesh.lane_depth_cap items. */
  enqueue(agent: string, kind: LaneItemKind, body: unknown, trace: string | null): string {
    const { queued, inflight } = this.depth(agent);
    const room = laneRoom(agent, queued + inflight, this.depthCap());
    if (!room.ok) throw room.error;
    const id = newId(LANE_ID_PREFIX[kind]);
    this.db
      .prepare('INSERT INTO lane_items (id, agent, kind, body, trace, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, agent, kind, JSON.stringify(body), trace, now());
    return id;
  }

  /** Takes the oldest ready item of `agent` and marks it in flight, or returns null. */
  claimNext(agent: string): LaneItem | null {
    return this.db.transaction(() => {
      if (this.inflight(agent)) return null;
      const row = this.db
        .prepare<[string, string], LaneRow>(
          `SELECT * FROM lane_items WHERE agent = ? AND status = 'queued' AND (not_before IS NULL OR not_before <= ?) ORDER BY ${CLAIM_ORDER} LIMIT 1`,
        )
        .get(agent, now());
      if (!row) return null;
      this.db
        .prepare("UPDATE lane_items SET status = 'inflight', attempts = attempts + 1, started_at = ? WHERE seq = ?")
        .run(now(), row.seq);
      return { ...row, status: 'inflight' as const, attempts: row.attempts + 1, body: JSON.parse(row.body) as unknown };
    })();
  }

  private inflight(agent: string): boolean {
    return (
      (this.db
        .prepare<[string], { n: number }>(
          "SELECT COUNT(*) AS n FROM lane_items WHERE agent = ? AND status = 'inflight'",
        )
        .get(agent)?.n ?? 0) > 0
    );
  }

  complete(id: string, reply: string): void {
    this.db
      .prepare(
        "UPDATE lane_items SET status = 'done', finished_at = ?, reply = ?, last_error = NULL, error_code = NULL WHERE id = ?",
      )
      .run(now(), reply, id);
  }

  /** Back to the queue after `delayMs`, or failed for good once `attempts` reached `maxAttempts`. */
  retryOrFail(item: LaneItem, error: string, delayMs: number, maxAttempts: number): LaneStatus {
    const status: LaneStatus = item.attempts >= maxAttempts ? 'failed' : 'queued';
    this.db
      .prepare('UPDATE lane_items SET status = ?, last_error = ?, not_before = ?, finished_at = ? WHERE id = ?')
      .run(status, error, new Date(Date.now() + delayMs).toISOString(), status === 'failed' ? now() : null, item.id);
    return status;
  }

  /** Failed for good, without a retry (a chat turn that ended in an error); `code` is the error's, when it has one. */
  fail(id: string, error: string, code: string | null = null): void {
    this.db
      .prepare(
        "UPDATE lane_items SET status = 'failed', last_error = ?, error_code = ?, finished_at = ? WHERE id = ? AND status IN ('queued', 'inflight')",
      )
      .run(error, code, now(), id);
  }

  /** At mesh start: whatever was in flight when the mesh stopped is queued again, same id;
   *  chat turns left queued or in flight are failed, as nobody waits for them any more. */
  requeueInflight(): number {
    return this.db.transaction(() => {
      this.db
        .prepare(
          "UPDATE lane_items SET status = 'failed', last_error = 'the mesh stopped before this chat turn ended', error_code = ?, finished_at = ? WHERE kind = 'chat' AND status IN ('queued', 'inflight')",
        )
        .run(MESH_STOPPED_CODE, now());
      return this.db
        .prepare("UPDATE lane_items SET status = 'queued', not_before = NULL WHERE status = 'inflight'")
        .run().changes;
    })();
  }

  /** Returns an item that could not be delivered because the agent is not running, without counting an attempt. */
  release(id: string): void {
    this.db
      .prepare("UPDATE lane_items SET status = 'queued', attempts = attempts - 1 WHERE id = ? AND status = 'inflight'")
      .run(id);
  }

  depth(agent: string): { queued: number; inflight: number } {
    const rows = this.db
      .prepare<[string], { status: string; n: number }>(
        "SELECT status, COUNT(*) AS n FROM lane_items WHERE agent = ? AND status IN ('queued', 'inflight') GROUP BY status",
      )
      .all(agent);
    return {
      queued: rows.find((r) => r.status === 'queued')?.n ?? 0,
      inflight: rows.find((r) => r.status === 'inflight')?.n ?? 0,
    };
  }

  /** Queued (not in-flight) items of `agent` by kind, for the heartbeat's probes. */
  queuedByKind(agent: string): Partial<Record<LaneItemKind, number>> {
    const rows = this.db
      .prepare<[string], { kind: LaneItemKind; n: number }>(
        "SELECT kind, COUNT(*) AS n FROM lane_items WHERE agent = ? AND status = 'queued' GROUP BY kind",
      )
      .all(agent);
    return Object.fromEntries(rows.map((row) => [row.kind, row.n]));
  }

  /** Depth, cap and what runs now, for legion status. */
  status(agent: string): LaneStatusView {
    const running = this.db
      .prepare<[string], { kind: LaneItemKind; id: string; started_at: string }>(
        "SELECT kind, id, started_at FROM lane_items WHERE agent = ? AND status = 'inflight' LIMIT 1",
      )
      .get(agent);
    return {
      ...this.depth(agent),
      cap: this.depthCap(),
      running: running ? { kind: running.kind, id: running.id, since: running.started_at } : null,
    };
  }

  /** Agents with something queued, for the dispatcher's start-up sweep. */
  agentsWithWork(): string[] {
    return this.db
      .prepare<[], { agent: string }>("SELECT DISTINCT agent FROM lane_items WHERE status = 'queued'")
      .all()
      .map((r) => r.agent);
  }

  get(id: string): (LaneItem & { reply: string | null; last_error: string | null }) | null {
    const row = this.db
      .prepare<[string], LaneRow & { reply: string | null; last_error: string | null }>(
        'SELECT * FROM lane_items WHERE id = ?',
      )
      .get(id);
    return row ? { ...row, body: JSON.parse(row.body) as unknown } : null;
  }

  /** `agent`'s items newest first, whatever their kind or state; retention prunes finished ones. */
  history(agent: string, query: LaneHistoryQuery): LaneHistoryRow[] {
    const rows = this.db
      .prepare<
        [string, number, number],
        LaneRow & {
          reply: string | null;
          last_error: string | null;
          error_code: string | null;
          finished_at: string | null;
        }
      >(
        'SELECT seq, id, agent, kind, body, status, attempts, trace, created_at, finished_at, reply, last_error, error_code FROM lane_items WHERE agent = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      )
      .all(agent, query.before ?? Number.MAX_SAFE_INTEGER, query.limit);
    return rows.map((row) => ({ ...row, body: JSON.parse(row.body) as unknown }));
  }

  /** Whether `agent` has any item left, so the history of a removed agent can still be read. */
  hasItems(agent: string): boolean {
    return (
      this.db
        .prepare<[string], { one: number }>('SELECT 1 AS one FROM lane_items WHERE agent = ? LIMIT 1')
        .get(agent) !== undefined
    );
  }

  /** Soonest time a queued item of `agent` becomes ready, if it is delayed. */
  nextReadyAt(agent: string): number | null {
    const row = this.db
      .prepare<[string], { t: string | null }>(
        "SELECT MIN(not_before) AS t FROM lane_items WHERE agent = ? AND status = 'queued'",
      )
      .get(agent);
    return row?.t ? Date.parse(row.t) : null;
  }
}
