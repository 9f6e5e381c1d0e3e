// Workflow runs in mesh.db: the run (with a snapshot of the definition it started
// with, so a resumed run follows the file it began under), one row per step, and the
// transitions of both. Invariants: this file only reads and writes rows; the
// orchestrator calls it inside its own transactions, so a state change and its
// transition row (and event, through record()) commit together or not at all; every
// transition is also an event in the event log (kind 'workflow', subject and trace the
// run id), so `legion logs` shows runs; reads check stored JSON against the wire
// schemas, so the store never answers outside the contract.
import type { Db, Migration } from '../db.js';
import type { EventLog } from '../events/log.js';
import { WorkflowFileSchema, type WorkflowFile } from '../../shared/config/workflow.js';
import type { JsonValue } from '../../shared/wire/blackboard.js';
import type { RunStatus, RunView, StepStatus, StepView, Transition } from '../../shared/wire/workflow.js';

export const workflowsMigrations: Migration[] = [
  {
    domain: 'workflows',
    version: 1,
    sql: `CREATE TABLE workflow_runs (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      workflow TEXT NOT NULL,
      status TEXT NOT NULL,
      trigger TEXT NOT NULL,
      input TEXT NOT NULL,
      definition TEXT NOT NULL,
      error TEXT,
      created_at TEXT NOT NULL,
      deadline TEXT NOT NULL,
      finished_at TEXT,
      -- on_complete.publish went out; a run finished but not published at a crash is published at the next start.
      published_at TEXT
    );
    CREATE INDEX workflow_runs_status ON workflow_runs (status);
    CREATE TABLE workflow_steps (
      run_id TEXT NOT NULL,
      step_id TEXT NOT NULL,
      position INTEGER NOT NULL,
      status TEXT NOT NULL,
      agent TEXT,
      attempt INTEGER NOT NULL DEFAULT 0,
      task_id TEXT,
      lane_item TEXT,
      result TEXT NOT NULL DEFAULT 'null',
      error TEXT,
      reason TEXT,
      not_before TEXT,
      attempt_started_at TEXT,
      started_at TEXT,
      finished_at TEXT,
      PRIMARY KEY (run_id, step_id)
    );
    CREATE INDEX workflow_steps_task ON workflow_steps (task_id);
    CREATE TABLE workflow_transitions (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      run_id TEXT NOT NULL,
      step TEXT,
      status TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      detail TEXT,
      at TEXT NOT NULL
    );
    CREATE INDEX workflow_transitions_run ON workflow_transitions (run_id, seq);`,
  },
];

export interface RunRecord {
  id: string;
  workflow: string;
  status: RunStatus;
  trigger: string;
  input: JsonValue;
  definition: WorkflowFile;
  error: string | null;
  created_at: string;
  deadline: string;
  finished_at: string | null;
  published_at: string | null;
}

export interface StepRecord {
  run_id: string;
  step_id: string;
  status: StepStatus;
  agent: string | null;
  attempt: number;
  task_id: string | null;
  lane_item: string | null;
  result: JsonValue;
  error: string | null;
  reason: string | null;
  not_before: string | null;
  attempt_started_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

type RunRow = Omit<RunRecord, 'input' | 'definition'> & { input: string; definition: string };
type StepRow = Omit<StepRecord, 'result'> & { result: string };

export type StepPatch = Partial<Omit<StepRecord, 'run_id' | 'step_id'>>;
export type RunPatch = Partial<Pick<RunRecord, 'status' | 'error' | 'finished_at' | 'published_at'>>;

export interface NewTransition {
  run: RunRecord;
  /** null: the run itself changed. */
  step: string | null;
  status: string;
  attempt: number;
  detail: string | null;
  /** The step's agent, for `legion logs --agent`; null for the run. */
  agent: string | null;
}

const STEP_COLUMNS = [
  'status',
  'agent',
  'attempt',
  'task_id',
  'lane_item',
  'result',
  'error',
  'reason',
  'not_before',
  'attempt_started_at',
  'started_at',
  'finished_at',
] as const;
const RUN_COLUMNS = ['status', 'error', 'finished_at', 'published_at'] as const;

function toRun(row: RunRow): RunRecord {
  return {
    ...row,
    input: JSON.parse(row.input) as JsonValue,
    definition: WorkflowFileSchema.parse(JSON.parse(row.definition)),
  };
}

function toStep(row: StepRow): StepRecord {
  return { ...row, result: JSON.parse(row.result) as JsonValue };
}

export class WorkflowStore {
  constructor(
    private readonly db: Db,
    private readonly events: EventLog,
  ) {}

  /** Inserts a run and its steps (all pending, in the definition's order) and the run's
   *  `started` transition. */
  createRun(run: Omit<RunRecord, 'status' | 'error' | 'finished_at' | 'published_at'>): RunRecord {
    const record: RunRecord = { ...run, status: 'running', error: null, finished_at: null, published_at: null };
    this.db
      .prepare(
        'INSERT INTO workflow_runs (id, workflow, status, trigger, input, definition, created_at, deadline) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        run.id,
        run.workflow,
        record.status,
        run.trigger,
        JSON.stringify(run.input),
        JSON.stringify(run.definition),
        run.created_at,
        run.deadline,
      );
    const insertStep = this.db.prepare(
      "INSERT INTO workflow_steps (run_id, step_id, position, status) VALUES (?, ?, ?, 'pending')",
    );
    run.definition.steps.forEach((step, position) => insertStep.run(run.id, step.id, position));
    this.record({
      run: record,
      step: null,
      status: 'started',
      attempt: 0,
      detail: `trigger ${run.trigger}`,
      agent: null,
    });
    return record;
  }

  run(id: string): RunRecord | null {
    const row = this.db.prepare<[string], RunRow>('SELECT * FROM workflow_runs WHERE id = ?').get(id);
    return row ? toRun(row) : null;
  }

  steps(runId: string): StepRecord[] {
    return this.db
      .prepare<[string], StepRow>('SELECT * FROM workflow_steps WHERE run_id = ? ORDER BY position')
      .all(runId)
      .map(toStep);
  }

  step(runId: string, stepId: string): StepRecord | null {
    const row = this.db
      .prepare<[string, string], StepRow>('SELECT * FROM workflow_steps WHERE run_id = ? AND step_id = ?')
      .get(runId, stepId);
    return row ? toStep(row) : null;
  }

  updateStep(runId: string, stepId: string, patch: StepPatch): void {
    const columns = STEP_COLUMNS.filter((column) => patch[column] !== undefined);
    if (columns.length === 0) return;
    const values = columns.map((column) => (column === 'result' ? JSON.stringify(patch.result) : patch[column]));
    this.db
      .prepare(
        `UPDATE workflow_steps SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE run_id = ? AND step_id = ?`,
      )
      .run(...values, runId, stepId);
  }

  updateRun(runId: string, patch: RunPatch): void {
    const columns = RUN_COLUMNS.filter((column) => patch[column] !== undefined);
    if (columns.length === 0) return;
    this.db
      .prepare(`UPDATE workflow_runs SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`)
      .run(...columns.map((c) => patch[c]), runId);
  }

  /** A transition row and its event; call in the transaction of the change it records. */
  record(transition: NewTransition): void {
    const { run, step, status, attempt, detail, agent } = transition;
    this.db
      .prepare('INSERT INTO workflow_transitions (run_id, step, status, attempt, detail, at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(run.id, step, status, attempt, detail, new Date().toISOString());
    this.events.record({
      agent,
      kind: 'workflow',
      subject: run.id,
      detail: {
        workflow: run.workflow,
        ...(step === null ? {} : { step, attempt }),
        status,
        ...(detail === null ? {} : { detail }),
      },
      trace: run.id,
    });
  }

  /** Runs still going, oldest first (resumed at mesh start). */
  runningRuns(): RunRecord[] {
    return this.db
      .prepare<[], RunRow>("SELECT * FROM workflow_runs WHERE status = 'running' ORDER BY seq")
      .all()
      .map(toRun);
  }

  /** Finished runs whose on_complete publish has not gone out (a stop came in between). */
  unpublishedRuns(): RunRecord[] {
    return this.db
      .prepare<[], RunRow>(
        "SELECT * FROM workflow_runs WHERE status = 'done' AND published_at IS NULL AND json_extract(definition, '$.on_complete.publish') IS NOT NULL ORDER BY seq",
      )
      .all()
      .map(toRun);
  }

  /** The step of a task id (run.step.attempt), whatever attempt it is at now. */
  stepOfTask(taskId: string): { runId: string; stepId: string } | null {
    const row = this.db
      .prepare<[string], { run_id: string; step_id: string }>(
        'SELECT run_id, step_id FROM workflow_steps WHERE task_id = ?',
      )
      .get(taskId);
    return row ? { runId: row.run_id, stepId: row.step_id } : null;
  }

  /** Newest first, without steps and input. */
  listRuns(limit: number): Omit<RunView, 'steps' | 'input'>[] {
    return this.db
      .prepare<[number], RunRow>('SELECT * FROM workflow_runs ORDER BY seq DESC LIMIT ?')
      .all(limit)
      .map((row) => ({
        id: row.id,
        workflow: row.workflow,
        status: row.status,
        trigger: row.trigger,
        error: row.error,
        created_at: row.created_at,
        finished_at: row.finished_at,
      }));
  }

  view(runId: string): RunView | null {
    const run = this.run(runId);
    if (!run) return null;
    return {
      id: run.id,
      workflow: run.workflow,
      status: run.status,
      trigger: run.trigger,
      input: run.input,
      steps: this.steps(runId).map(stepView),
      error: run.error,
      created_at: run.created_at,
      finished_at: run.finished_at,
    };
  }

  transitions(runId: string, afterSeq: number, limit = 1000): Transition[] {
    return this.db
      .prepare<[string, number, number], Transition>(
        'SELECT seq, run_id, step, status, attempt, detail, at FROM workflow_transitions WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(runId, afterSeq, limit);
  }
}

function stepView(step: StepRecord): StepView {
  return {
    id: step.step_id,
    status: step.status,
    agent: step.agent,
    attempt: step.attempt,
    task_id: step.task_id,
    result: step.result,
    error: step.error,
    reason: step.reason,
    started_at: step.started_at,
    finished_at: step.finished_at,
  };
}
