// Cron jobs and their run history in mesh.db. Invariants:
// - times are epoch milliseconds in the tables and ISO text on the wire;
// - a job's last run, status and reason are read from its newest run row, so the
//   job and its history cannot disagree; pruning keeps the newest RUNS_KEPT runs of a
//   job, so that row always exists once the job has run;
// - the job keeps its newest fired run and lane item in its own row, so "is the
//   previous run still going" never depends on history that pruning may have dropped;
// - removing a job removes its history (ON DELETE CASCADE);
// - the store decides nothing: the scheduler calls it inside its own transactions.
import type { Db, Migration } from '../../db.js';
import type { CronJob, CronRun, CronRunStatus, CronRunTrigger, MissedPolicy } from '../../../shared/wire/cron.js';

export const cronMigrations: Migration[] = [
  {
    domain: 'cron',
    version: 1,
    sql: `CREATE TABLE cron_jobs (
      id TEXT PRIMARY KEY,
      agent TEXT NOT NULL,
      schedule TEXT NOT NULL,
      message TEXT NOT NULL,
      tz TEXT NOT NULL,
      missed TEXT NOT NULL CHECK (missed IN ('run', 'skip')),
      enabled INTEGER NOT NULL DEFAULT 1,
      created_by TEXT NOT NULL CHECK (created_by IN ('operator', 'agent')),
      created_at INTEGER NOT NULL,
      next_run INTEGER,
      last_run_id TEXT,
      fired_run_id TEXT,
      fired_lane_item TEXT
    );
    CREATE INDEX cron_jobs_due ON cron_jobs (next_run) WHERE enabled = 1;
    CREATE INDEX cron_jobs_agent ON cron_jobs (agent, created_at);
    CREATE TABLE cron_runs (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      job_id TEXT NOT NULL REFERENCES cron_jobs (id) ON DELETE CASCADE,
      agent TEXT NOT NULL,
      trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'missed', 'manual')),
      scheduled_for INTEGER,
      fired_at INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'ok', 'error', 'skipped')),
      reason TEXT,
      lane_item TEXT,
      finished_at INTEGER
    );
    CREATE INDEX cron_runs_job ON cron_runs (job_id, seq);
    CREATE INDEX cron_runs_lane_item ON cron_runs (lane_item);
    CREATE INDEX cron_runs_pending ON cron_runs (status) WHERE status = 'pending';`,
  },
];

/** Runs kept per job; older ones are pruned as new ones are recorded. */
export const RUNS_KEPT = 200;

export interface JobRow {
  id: string;
  agent: string;
  schedule: string;
  message: string;
  tz: string;
  missed: MissedPolicy;
  enabled: number;
  created_by: 'operator' | 'agent';
  created_at: number;
  next_run: number | null;
  last_run_id: string | null;
  fired_run_id: string | null;
  fired_lane_item: string | null;
}

interface JobWithLastRun extends JobRow {
  last_fired_at: number | null;
  last_status: CronRunStatus | null;
  last_reason: string | null;
}

export interface RunRow {
  id: string;
  job_id: string;
  agent: string;
  trigger: CronRunTrigger;
  scheduled_for: number | null;
  fired_at: number;
  status: CronRunStatus;
  reason: string | null;
  lane_item: string | null;
  finished_at: number | null;
}

export type NewJob = Omit<JobRow, 'enabled' | 'last_run_id' | 'fired_run_id' | 'fired_lane_item'>;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function toJob(row: JobWithLastRun): CronJob {
  return {
    id: row.id,
    agent: row.agent,
    schedule: row.schedule,
    message: row.message,
    tz: row.tz,
    missed: row.missed,
    enabled: row.enabled === 1,
    created_by: row.created_by,
    created_at: new Date(row.created_at).toISOString(),
    next_run: iso(row.next_run),
    last_run: iso(row.last_fired_at),
    last_status: row.last_status,
    last_reason: row.last_reason,
  };
}

export function toRun(row: RunRow): CronRun {
  return {
    id: row.id,
    job_id: row.job_id,
    agent: row.agent,
    trigger: row.trigger,
    scheduled_for: iso(row.scheduled_for),
    fired_at: new Date(row.fired_at).toISOString(),
    status: row.status,
    reason: row.reason,
    lane_item: row.lane_item,
    finished_at: iso(row.finished_at),
  };
}

const JOB_SELECT = `SELECT j.*, r.fired_at AS last_fired_at, r.status AS last_status, r.reason AS last_reason
  FROM cron_jobs j LEFT JOIN cron_runs r ON r.id = j.last_run_id`;

export class CronStore {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Runs `fn` in one transaction (a firing's lane item, run row and next run commit together). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  insertJob(job: NewJob): void {
    this.db
      .prepare(
        `INSERT INTO cron_jobs (id, agent, schedule, message, tz, missed, created_by, created_at, next_run)
         VALUES (@id, @agent, @schedule, @message, @tz, @missed, @created_by, @created_at, @next_run)`,
      )
      .run(job);
  }

  job(id: string): CronJob | null {
    const row = this.db.prepare<[string], JobWithLastRun>(`${JOB_SELECT} WHERE j.id = ?`).get(id);
    return row ? toJob(row) : null;
  }

  jobRow(id: string): JobRow | null {
    return this.db.prepare<[string], JobRow>('SELECT * FROM cron_jobs WHERE id = ?').get(id) ?? null;
  }

  list(agent?: string): CronJob[] {
    const rows = agent
      ? this.db
          .prepare<[string], JobWithLastRun>(`${JOB_SELECT} WHERE j.agent = ? ORDER BY j.created_at, j.id`)
          .all(agent)
      : this.db.prepare<[], JobWithLastRun>(`${JOB_SELECT} ORDER BY j.agent, j.created_at, j.id`).all();
    return rows.map(toJob);
  }

  deleteJob(id: string): boolean {
    return this.db.prepare('DELETE FROM cron_jobs WHERE id = ?').run(id).changes > 0;
  }

  /** Enabled jobs whose next run is at or before `now`, soonest first. */
  dueJobs(now: number): JobRow[] {
    return this.db
      .prepare<[number], JobRow>('SELECT * FROM cron_jobs WHERE enabled = 1 AND next_run <= ? ORDER BY next_run, id')
      .all(now);
  }

  earliestNextRun(): number | null {
    return (
      this.db.prepare<[], { t: number | null }>('SELECT MIN(next_run) AS t FROM cron_jobs WHERE enabled = 1').get()
        ?.t ?? null
    );
  }

  /** A null next run disables the job (a one-shot that has fired, a schedule with no more dates). */
  setNextRun(id: string, next: number | null): void {
    this.db.prepare('UPDATE cron_jobs SET next_run = ?, enabled = ? WHERE id = ?').run(next, next === null ? 0 : 1, id);
  }

  /** Records a run as the job's newest (and fired one, when it has a lane item) and prunes the job's oldest runs beyond RUNS_KEPT. */
  insertRun(run: RunRow): void {
    this.db
      .prepare(
        `INSERT INTO cron_runs (id, job_id, agent, trigger, scheduled_for, fired_at, status, reason, lane_item, finished_at)
         VALUES (@id, @job_id, @agent, @trigger, @scheduled_for, @fired_at, @status, @reason, @lane_item, @finished_at)`,
      )
      .run(run);
    this.db.prepare('UPDATE cron_jobs SET last_run_id = ? WHERE id = ?').run(run.id, run.job_id);
    if (run.lane_item !== null)
      this.db
        .prepare('UPDATE cron_jobs SET fired_run_id = ?, fired_lane_item = ? WHERE id = ?')
        .run(run.id, run.lane_item, run.job_id);
    this.db
      .prepare(
        'DELETE FROM cron_runs WHERE job_id = ? AND seq <= (SELECT seq FROM cron_runs WHERE job_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)',
      )
      .run(run.job_id, run.job_id, RUNS_KEPT);
  }

  run(id: string): CronRun | null {
    const row = this.db.prepare<[string], RunRow>('SELECT * FROM cron_runs WHERE id = ?').get(id);
    return row ? toRun(row) : null;
  }

  runs(jobId: string, limit: number): CronRun[] {
    return this.db
      .prepare<[string, number], RunRow>('SELECT * FROM cron_runs WHERE job_id = ? ORDER BY seq DESC LIMIT ?')
      .all(jobId, limit)
      .map(toRun);
  }

  pendingRuns(): RunRow[] {
    return this.db.prepare<[], RunRow>("SELECT * FROM cron_runs WHERE status = 'pending' ORDER BY seq").all();
  }

  pendingRunOfLaneItem(laneItem: string): RunRow | null {
    return (
      this.db
        .prepare<[string], RunRow>("SELECT * FROM cron_runs WHERE lane_item = ? AND status = 'pending'")
        .get(laneItem) ?? null
    );
  }

  /** Ends a pending run; false when it had already ended. */
  settleRun(id: string, status: 'ok' | 'error', reason: string | null, finishedAt: number): boolean {
    return (
      this.db
        .prepare("UPDATE cron_runs SET status = ?, reason = ?, finished_at = ? WHERE id = ? AND status = 'pending'")
        .run(status, reason, finishedAt, id).changes > 0
    );
  }
}
