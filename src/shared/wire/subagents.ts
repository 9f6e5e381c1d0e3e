// Sub-agents on the agent API (the spawn_agent tool): POST /mesh/subagents/spawn checks
// the request and answers at once with the new id (every refusal is an error there,
// naming the rule); POST /mesh/subagents/wait long-polls the run until it is final or
// wait_s passed, so no HTTP call outlives client timeouts however long the sub-agent
// runs; POST /mesh/subagents/stop ends it. Only the parent may wait for or stop its own.
import { z } from 'zod';
import { ErrorBodySchema } from './error.js';
import { RequestedPermissionsSchema } from '../config/permissions/schema.js';
import { UsageSchema } from './llm.js';

/** Seconds a sub-agent may run when spawn_agent names no timeout_s. */
export const DEFAULT_SPAWN_TIMEOUT_S = 300;
/** The most timeout_s may ask for: a parent must not wait on its sub-agent for longer. */
export const MAX_SPAWN_TIMEOUT_S = 3600;
/** Longest one POST /mesh/subagents/wait holds the answer back. */
export const MAX_SUBAGENT_WAIT_S = 30;

const ModelRefSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*\/.+$/, 'expected "provider/model", for example openai/gpt-4o-mini');

export const SpawnRequestSchema = z.strictObject({
  /** One line on what the sub-agent is (shown in legion status). */
  role: z.string().trim().min(1, 'expected a role').max(200),
  /** Its system prompt. */
  instructions: z.string().trim().min(1, 'expected instructions').max(100_000),
  /** The job, run in task mode; its final answer is the result. */
  task: z.string().trim().min(1, 'expected a task').max(100_000),
  model: ModelRefSchema.optional(),
  timeout_s: z
    .number()
    .positive()
    .max(MAX_SPAWN_TIMEOUT_S, `expected timeout_s of at most ${MAX_SPAWN_TIMEOUT_S} seconds`)
    .optional(),
  /** Narrows the parent's permissions for the sub-agent (keys left out are the parent's). */
  permissions: RequestedPermissionsSchema.optional(),
});
export type SpawnRequest = z.output<typeof SpawnRequestSchema>;

export const SpawnAcceptedSchema = z.object({ id: z.string(), model: z.string(), timeout_s: z.number() });
export type SpawnAccepted = z.infer<typeof SpawnAcceptedSchema>;

export const SubAgentRunStatusSchema = z.enum(['starting', 'running', 'done', 'failed', 'timeout', 'ended']);
export type SubAgentRunStatus = z.infer<typeof SubAgentRunStatusSchema>;

export const SubAgentIdRequestSchema = z.strictObject({ id: z.string().min(1) });

export const SubAgentWaitRequestSchema = SubAgentIdRequestSchema.extend({
  wait_s: z.number().min(0).max(MAX_SUBAGENT_WAIT_S).default(MAX_SUBAGENT_WAIT_S),
});

export const SubAgentRunViewSchema = z.object({
  id: z.string(),
  parent: z.string(),
  role: z.string(),
  model: z.string(),
  status: SubAgentRunStatusSchema,
  /** done: the task's answer (JSON when it parses, else its text). */
  output: z.json(),
  error: ErrorBodySchema.optional(),
  /** Once final: the conversation as the model saw it at its last call, then its last answer. */
  transcript: z.array(z.json()),
  usage: UsageSchema,
  started_at: z.string(),
  finished_at: z.string().nullable(),
});
export type SubAgentRunView = z.infer<typeof SubAgentRunViewSchema>;

/** A live sub-agent as legion status lists it under its parent. */
export const SubAgentStatusSchema = z.object({
  id: z.string(),
  role: z.string(),
  model: z.string(),
  status: SubAgentRunStatusSchema,
  started_at: z.string(),
});
export type SubAgentStatus = z.infer<typeof SubAgentStatusSchema>;
