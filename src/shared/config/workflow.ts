// The schema of a workflow file (config/workflows/<name>.yaml): a DAG of steps the user,
// not an LLM, lays out. This is the shape only; src/shared/config/workflows/load.ts checks what
// a shape cannot (unknown steps and agents, cycles, templates that point nowhere,
// conditions that do not parse). Every object is strict, so a typo is an error.
import { z } from 'zod';
import { AgentNameSchema, WorkflowNameSchema } from '../names.js';
import { TopicSchema } from '../wire/fleet.js';
import { WebhookNameSchema } from '../wire/webhooks.js';
import { MAX_TASK_ITERATIONS, MAX_TASK_TIMEOUT_S } from '../wire/task.js';

export const WORKFLOWS_DIR = 'config/workflows';

/** Step ids are read in templates and conditions (steps.<id>.result), so they are identifiers. */
export const StepIdSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,63}$/,
    'expected a step id of lowercase letters, digits and _, starting with a letter (at most 64)',
  );
export { WorkflowNameSchema };

/** What a step does when its task fails for good (after its retries):
 *  abort: the run fails and what still runs is cancelled;
 *  skip: the step counts as skipped, so its dependents are skipped too (unless they say otherwise);
 *  continue: the step stays failed and its dependents run anyway (its result is null);
 *  fallback:<id>: the named step runs in its place; dependents wait for it. */
export const OnFailureSchema = z.union([
  z.enum(['abort', 'skip', 'continue']),
  z.string().regex(/^fallback:[a-z][a-z0-9_]{0,63}$/, 'expected abort, skip, continue or fallback:<step id>'),
]);
export type OnFailure = z.infer<typeof OnFailureSchema>;

export const RetrySchema = z.strictObject({
  /** Retries after the first attempt (so max: 3 is at most four attempts). */
  max: z.number().int().min(0).max(20).default(0),
  /** Wait before the first retry; doubles each retry, with jitter. */
  backoff_s: z.number().min(0).max(3600).default(1),
});
export type Retry = z.infer<typeof RetrySchema>;

export const WorkflowStepSchema = z
  .strictObject({
    id: StepIdSchema,
    /** The agent that runs the step... */
    agent: AgentNameSchema.optional(),
    /** ...or any agent whose role is this (agents.yaml `role`); the least busy one is picked. */
    capability: z.string().min(1).optional(),
    /** What kind of job this is; shown to the model (task mode). Defaults to the step id. */
    task_type: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^[^\r\n]*$/, 'expected a task type on one line')
      .optional(),
    /** The task input. Strings may hold templates: ${trigger.payload}, ${steps.<id>.result},
     *  ${blackboard.<key>}; a string that is one template alone takes the value as it is. */
    input: z.json().default('${trigger.payload}'),
    /** A JSON Schema the output must match (task mode validates and asks again). */
    output_schema: z.record(z.string(), z.json()).optional(),
    depends_on: z.array(StepIdSchema).default([]),
    /** Runs the step only when true; false skips it and the run records why. */
    condition: z.string().min(1).optional(),
    /** Run even when a dependency was skipped (by default the step is skipped too). */
    run_if_dependency_skipped: z.boolean().default(false),
    retry: RetrySchema.default({ max: 0, backoff_s: 1 }),
    /** Seconds one attempt may run; the agent's task is cancelled then. */
    timeout: z.number().positive().max(MAX_TASK_TIMEOUT_S).optional(),
    max_iterations: z.number().int().min(1).max(MAX_TASK_ITERATIONS).optional(),
    on_failure: OnFailureSchema.default('abort'),
    /** Blackboard key (templates allowed) the step's result is written to when it is done. */
    promote: z.string().min(1).optional(),
  })
  .refine((step) => (step.agent === undefined) !== (step.capability === undefined), {
    message: 'expected exactly one of agent or capability',
    path: ['agent'],
  })
  .transform((step) => ({ ...step, task_type: step.task_type ?? step.id }));
export type WorkflowStep = z.output<typeof WorkflowStepSchema>;

export const WorkflowTriggerSchema = z.union([
  z.literal('manual'),
  z.strictObject({ topic: TopicSchema }),
  z.strictObject({ webhook: WebhookNameSchema }),
]);
export type WorkflowTrigger = z.infer<typeof WorkflowTriggerSchema>;

export const DEFAULT_WORKFLOW_TIMEOUT_S = 3600;

export const WorkflowFileSchema = z.strictObject({
  name: WorkflowNameSchema,
  description: z.string().optional(),
  trigger: WorkflowTriggerSchema.default('manual'),
  /** Seconds the whole run may take; what still runs then is cancelled. */
  timeout: z
    .number()
    .positive()
    .max(7 * 24 * 3600)
    .default(DEFAULT_WORKFLOW_TIMEOUT_S),
  steps: z.array(WorkflowStepSchema).min(1, 'expected at least one step'),
  /** Published when the run is done; the payload is { run_id, workflow, status, results }. */
  on_complete: z.strictObject({ publish: TopicSchema }).optional(),
});
export type WorkflowFile = z.output<typeof WorkflowFileSchema>;
