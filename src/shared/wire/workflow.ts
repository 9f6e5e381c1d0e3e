// Workflows on the admin API: what `legion workflow list|run|status|cancel` and the
// REPL's /workflow send and read. Invariants: a run and each of its steps are in exactly
// one status at a time; every change of either is a transition row (and an event), so
// `--follow` can print them in order from any `after` cursor.
import { z } from 'zod';

export const RunStatusSchema = z.enum(['running', 'done', 'failed', 'cancelled', 'timeout']);
export type RunStatus = z.infer<typeof RunStatusSchema>;
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['done', 'failed', 'cancelled', 'timeout'];

/** pending: waits for its dependencies; queued: its task is on the agent's lane; retrying:
 *  failed an attempt and waits out its backoff. */
export const StepStatusSchema = z.enum([
  'pending',
  'queued',
  'running',
  'retrying',
  'done',
  'failed',
  'skipped',
  'cancelled',
]);
export type StepStatus = z.infer<typeof StepStatusSchema>;
export const FINAL_STEP_STATUSES: readonly StepStatus[] = ['done', 'failed', 'skipped', 'cancelled'];

export const WorkflowSummarySchema = z.object({
  name: z.string(),
  description: z.string().nullable(),
  /** "manual", "topic:<topic>" or "webhook:<hook>". */
  trigger: z.string(),
  steps: z.array(z.string()),
  file: z.string(),
});
export type WorkflowSummary = z.infer<typeof WorkflowSummarySchema>;
export const WorkflowListSchema = z.object({ workflows: z.array(WorkflowSummarySchema) });
export type WorkflowList = z.infer<typeof WorkflowListSchema>;

export const StartRunRequestSchema = z.strictObject({
  /** trigger.payload of the run; null when omitted. */
  input: z.json().optional(),
});

export const StepViewSchema = z.object({
  id: z.string(),
  status: StepStatusSchema,
  /** The agent the step runs on (chosen at dispatch for a capability step); null before. */
  agent: z.string().nullable(),
  /** Attempts started so far (1 on the first dispatch). */
  attempt: z.number().int().nonnegative(),
  task_id: z.string().nullable(),
  /** The task output (JSON when its text parses as JSON); null until done. */
  result: z.json(),
  error: z.string().nullable(),
  /** Why the step was skipped, cancelled or failed, in words. */
  reason: z.string().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type StepView = z.infer<typeof StepViewSchema>;

export const RunViewSchema = z.object({
  id: z.string(),
  workflow: z.string(),
  status: RunStatusSchema,
  /** What started it: "manual", "topic:<topic>", "webhook:<hook>". */
  trigger: z.string(),
  input: z.json(),
  steps: z.array(StepViewSchema),
  error: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
});
export type RunView = z.infer<typeof RunViewSchema>;
export const RunListSchema = z.object({ runs: z.array(RunViewSchema.omit({ steps: true, input: true })) });
export type RunList = z.infer<typeof RunListSchema>;

/** One row of the run's history. step null: the run itself changed. */
export const TransitionSchema = z.object({
  seq: z.number().int(),
  run_id: z.string(),
  step: z.string().nullable(),
  /** run: started, done, failed, cancelled, timeout; step: queued, running, done, failed,
   *  skipped, retried, cancelled. */
  status: z.string(),
  attempt: z.number().int().nonnegative(),
  detail: z.string().nullable(),
  at: z.string(),
});
export type Transition = z.infer<typeof TransitionSchema>;
export const TransitionListSchema = z.object({ transitions: z.array(TransitionSchema), run_status: RunStatusSchema });
export type TransitionList = z.infer<typeof TransitionListSchema>;

/** A run's DAG as its definition snapshot drew it (GET /api/workflow-runs/:id/graph): the
 *  dashboard lays it out; edits to the file after the run started do not change it. */
export const RunGraphSchema = z.object({
  run_id: z.string(),
  steps: z.array(
    z.object({
      id: z.string(),
      /** The agent named by the step, or "role:<capability>". */
      target: z.string(),
      depends_on: z.array(z.string()),
      condition: z.string().nullable(),
    }),
  ),
});
export type RunGraph = z.infer<typeof RunGraphSchema>;

/** One step of a run in full (GET /api/workflow-runs/:id/steps/:step): its view, the task
 *  input of its latest dispatch (null before the first), and its transitions in order. */
export const StepDetailSchema = z.object({
  run_id: z.string(),
  step: StepViewSchema,
  input: z.json(),
  transitions: z.array(TransitionSchema),
});
export type StepDetail = z.infer<typeof StepDetailSchema>;
