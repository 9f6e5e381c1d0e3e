// Task mode: the mesh (a workflow step, a trigger) hands an agent one structured job and
// collects its result (agent routes POST /task, GET /result/:task_id,
// POST /cancel/:task_id). Invariants: task_id is the idempotency key, chosen by the
// caller and safe in a URL path, so a re-dispatch after a restart finds the first
// dispatch's result; requests are strict, so a misspelt field is an error that names it;
// a result in a final status (done, failed, cancelled, timeout) never changes again.
import { z } from 'zod';
import { BlackboardKeySchema } from './blackboard.js';
import { TraceIdSchema } from './chat.js';
import { UsageSchema } from './llm.js';

export const DEFAULT_TASK_ITERATIONS = 20;
export const MAX_TASK_ITERATIONS = 100;
/** A day: a longer bound is almost surely a unit mistake (ms for s). */
export const MAX_TASK_TIMEOUT_S = 24 * 3600;

export const TaskIdSchema = z
  .string()
  .regex(/^[\w.:-]{1,128}$/, 'expected a task id of letters, digits, _ . : - (at most 128)');

export const TaskRequestSchema = z.strictObject({
  task_id: TaskIdSchema,
  /** What kind of job this is (research_prospect, summarize_ticket…); shown to the model. */
  task_type: z
    .string()
    .trim()
    .min(1, 'expected a non-empty task type')
    .max(200)
    .regex(/^[^\r\n]*$/, 'expected a task type on one line'),
  /** The job's data: any JSON value, a string included. */
  input: z.json(),
  /** A JSON Schema (2020-12, or draft-07 when its $schema says so) the output must match. */
  output_schema: z.record(z.string(), z.json()).optional(),
  /** Model calls the task may make, retries of an invalid answer included. */
  max_iterations: z.int().min(1).max(MAX_TASK_ITERATIONS).default(DEFAULT_TASK_ITERATIONS),
  /** Seconds the task may run, counted from its start (not while it waits in the queue). */
  timeout_s: z.number().positive().max(MAX_TASK_TIMEOUT_S).optional(),
  /** Set by the mesh: ties every mesh action of the task to one trace in the event log. */
  trace: TraceIdSchema.optional(),
});
export type TaskRequest = z.input<typeof TaskRequestSchema>;
export type TaskRequestParsed = z.output<typeof TaskRequestSchema>;

export const TaskStatusSchema = z.enum(['queued', 'running', 'done', 'failed', 'cancelled', 'timeout']);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

export const FINAL_TASK_STATUSES: readonly TaskStatus[] = ['done', 'failed', 'cancelled', 'timeout'];

export function isFinalTaskStatus(status: TaskStatus): boolean {
  return FINAL_TASK_STATUSES.includes(status);
}

/** A value the agent asks the mesh to put on the blackboard; the agent never writes it. */
export const TaskPromotionSchema = z.object({ key: BlackboardKeySchema, value: z.json() });
export type TaskPromotion = z.infer<typeof TaskPromotionSchema>;

export const TaskResultSchema = z.object({
  task_id: TaskIdSchema,
  status: TaskStatusSchema,
  /** done: the answer (validated JSON with an output_schema; otherwise JSON when the answer
   *  parses as JSON, else its text); null until done and when the task did not succeed. */
  output: z.json(),
  promotions: z.array(TaskPromotionSchema).optional(),
  /** Set for failed, cancelled and timeout; codes: invalid_output, iteration_limit,
   *  loop_guard, interrupted, cancelled, timeout, or the error of an LLM call. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** Tokens of every model call of the task, context compaction included. */
  usage: UsageSchema,
  /** ISO 8601 times; null while the task has not started or finished. */
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type TaskResult = z.infer<typeof TaskResultSchema>;

/** Longest a GET /result/<task_id>?wait_s=N may hold the answer back. */
export const MAX_RESULT_WAIT_S = 60;

/** GET /result/<task_id>?wait_s=N answers as soon as the task is final, or after N seconds
 *  with its current result; without wait_s it answers at once. */
export const ResultQuerySchema = z.object({
  wait_s: z.coerce
    .number()
    .min(0)
    .max(MAX_RESULT_WAIT_S, `expected wait_s of at most ${MAX_RESULT_WAIT_S} seconds`)
    .optional(),
});
