// Task results in <dataDir>/agent.db (migration domain "tasks"), so GET /result answers
// after an agent restart. Invariants: every status change is one conditional UPDATE,
// so a final status (done, failed, cancelled, timeout) is never overwritten, whoever
// writes second (a run finishing as a cancel arrives, say); at open, a task left queued
// or running by a process that died reads as failed with code `interrupted`, and is
// the one kind of finished task a new POST /task with the same id runs again (the run
// it had produced nothing); every result read is checked against TaskResultSchema, so
// the store cannot answer outside the wire contract; a closed store ignores writes, so
// a run that settles while the server shuts down cannot fail on a closed database.
import { openAgentDb, type Db, type Migration } from '../memory/db.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { Usage } from '../../shared/wire/llm.js';
import {
  TaskResultSchema,
  type TaskPromotion,
  type TaskRequestParsed,
  type TaskResult,
  type TaskStatus,
} from '../../shared/wire/task.js';
import type { Json } from './output.js';
import type { TaskError } from './run.js';

export const TASK_MIGRATIONS: readonly Migration[] = [
  {
    domain: 'tasks',
    version: 1,
    sql: `
      CREATE TABLE tasks (
        task_id TEXT PRIMARY KEY,
        -- The request as accepted, for whoever inspects a result later.
        request TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'timeout')),
        output TEXT NOT NULL DEFAULT 'null',
        promotions TEXT,
        error_code TEXT,
        error_message TEXT,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        accepted_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
      );
      CREATE INDEX tasks_unfinished ON tasks (status) WHERE status IN ('queued', 'running');
    `,
  },
];

interface TaskRow {
  task_id: string;
  status: TaskStatus;
  output: string;
  promotions: string | null;
  error_code: string | null;
  error_message: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  started_at: string | null;
  finished_at: string | null;
}

export type FinalRecord =
  | { status: 'done'; output: Json; promotions: TaskPromotion[] }
  | { status: 'failed' | 'cancelled' | 'timeout'; error: TaskError };

export const INTERRUPTED_CODE: ErrorCode = 'interrupted';

export class TaskStore {
  private constructor(private readonly db: Db) {}

  /** Opens agent.db (its own connection; WAL lets it sit beside the memory index's) and
   *  turns the unfinished tasks of a previous process into `interrupted` failures. */
  static open(dataDir: string, now = new Date()): TaskStore {
    const { db } = openAgentDb(dataDir, { migrations: TASK_MIGRATIONS, loadVectors: false });
    const store = new TaskStore(db);
    store.interruptUnfinished(now);
    return store;
  }

  private interruptUnfinished(now: Date): void {
    this.db
      .prepare(
        `UPDATE tasks SET status = 'failed', error_code = ?, finished_at = ?,
           error_message = 'the agent stopped before the task finished (restart or crash); send POST /task with the same task_id to run it again'
         WHERE status IN ('queued', 'running')`,
      )
      .run(INTERRUPTED_CODE, now.toISOString());
  }

  /** Records a new task as queued. An existing id keeps its result (`created: false`),
   *  except an interrupted one, which is queued afresh with this request. */
  accept(request: TaskRequestParsed, now = new Date()): { result: TaskResult; created: boolean } {
    return this.db.transaction(() => {
      const existing = this.row(request.task_id);
      if (existing && !(existing.status === 'failed' && existing.error_code === INTERRUPTED_CODE)) {
        return { result: toResult(existing), created: false };
      }
      this.db.prepare('DELETE FROM tasks WHERE task_id = ?').run(request.task_id);
      this.db
        .prepare("INSERT INTO tasks (task_id, request, status, accepted_at) VALUES (?, ?, 'queued', ?)")
        .run(request.task_id, JSON.stringify(request), now.toISOString());
      return { result: this.mustGet(request.task_id), created: true };
    })();
  }

  get(taskId: string): TaskResult | null {
    const row = this.row(taskId);
    return row ? toResult(row) : null;
  }

  /** queued → running; false when the task is no longer queued (cancelled meanwhile). */
  start(taskId: string, now = new Date()): boolean {
    if (!this.db.open) return false;
    return (
      this.db
        .prepare("UPDATE tasks SET status = 'running', started_at = ? WHERE task_id = ? AND status = 'queued'")
        .run(now.toISOString(), taskId).changes === 1
    );
  }

  /** queued or running → a final status; false when the task had already finished. */
  finish(taskId: string, record: FinalRecord, usage: Usage | null, now = new Date()): boolean {
    if (!this.db.open) return false;
    const done = record.status === 'done';
    const changes = this.db
      .prepare(
        `UPDATE tasks SET status = @status, output = @output, promotions = @promotions, error_code = @error_code,
           error_message = @error_message, finished_at = @now,
           prompt_tokens = coalesce(@prompt_tokens, prompt_tokens), completion_tokens = coalesce(@completion_tokens, completion_tokens)
         WHERE task_id = @task_id AND status IN ('queued', 'running')`,
      )
      .run({
        task_id: taskId,
        status: record.status,
        output: done ? JSON.stringify(record.output) : 'null',
        promotions: done && record.promotions.length > 0 ? JSON.stringify(record.promotions) : null,
        error_code: done ? null : record.error.code,
        error_message: done ? null : record.error.message,
        prompt_tokens: usage?.prompt_tokens ?? null,
        completion_tokens: usage?.completion_tokens ?? null,
        now: now.toISOString(),
      }).changes;
    return changes === 1;
  }

  /** The tokens a run spent, written when it settles after its status was already set (a cancel). */
  recordUsage(taskId: string, usage: Usage): void {
    if (!this.db.open) return;
    this.db
      .prepare('UPDATE tasks SET prompt_tokens = ?, completion_tokens = ? WHERE task_id = ?')
      .run(usage.prompt_tokens, usage.completion_tokens, taskId);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private row(taskId: string): TaskRow | undefined {
    return this.db.prepare<[string], TaskRow>('SELECT * FROM tasks WHERE task_id = ?').get(taskId);
  }

  private mustGet(taskId: string): TaskResult {
    const row = this.row(taskId);
    if (!row) throw new Error(`task ${taskId} vanished inside its own transaction`);
    return toResult(row);
  }
}

function toResult(row: TaskRow): TaskResult {
  return TaskResultSchema.parse({
    task_id: row.task_id,
    status: row.status,
    output: JSON.parse(row.output) as unknown,
    ...(row.promotions === null ? {} : { promotions: JSON.parse(row.promotions) as unknown }),
    ...(row.error_code === null ? {} : { error: { code: row.error_code, message: row.error_message ?? '' } }),
    usage: { prompt_tokens: row.prompt_tokens, completion_tokens: row.completion_tokens },
    started_at: row.started_at,
    finished_at: row.finished_at,
  });
}
