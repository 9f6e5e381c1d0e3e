// Cron over the wire: what the CLI and agents send to add, list, remove and run jobs,
// and what the mesh answers. Only the shape is checked here: whether a schedule or a
// time zone means anything is decided by the mesh (croner lives there, not in the
// agent image), which answers 400 naming the problem. Times are ISO 8601 in UTC.
import { z } from 'zod';
import { AgentNameSchema } from '../names.js';

export const CRON_MESSAGE_MAX_CHARS = 8 * 1024;

export const CronScheduleSchema = z
  .string()
  .trim()
  .min(1, 'expected a schedule: 5 or 6 cron fields, "every <n>s|m|h|d" or "at <ISO time>"')
  .max(200);
export const CronMessageSchema = z.string().min(1).max(CRON_MESSAGE_MAX_CHARS);
/** An IANA name such as Europe/Berlin; the mesh checks that it exists. */
export const TimeZoneNameSchema = z.string().min(1).max(64);
export const CronJobIdSchema = z
  .string()
  .regex(/^cron_[A-Za-z0-9_-]{1,32}$/, 'expected a cron job id such as cron_AbC123');

/** What happens to a run that fell due while the mesh was down: run it once at start-up, or skip it. */
export const MissedPolicySchema = z.enum(['run', 'skip']);
export type MissedPolicy = z.infer<typeof MissedPolicySchema>;

/** pending: its lane item is queued or in flight; ok / error: the agent's turn ended so; skipped: see reason. */
export const CronRunStatusSchema = z.enum(['pending', 'ok', 'error', 'skipped']);
export type CronRunStatus = z.infer<typeof CronRunStatusSchema>;

/** schedule: fell due; missed: fell due while the mesh was down; manual: `legion cron run`. */
export const CronRunTriggerSchema = z.enum(['schedule', 'missed', 'manual']);
export type CronRunTrigger = z.infer<typeof CronRunTriggerSchema>;

export const CronJobSchema = z.object({
  id: z.string(),
  agent: z.string(),
  schedule: z.string(),
  message: z.string(),
  tz: z.string(),
  missed: MissedPolicySchema,
  /** False once a one-shot `at` job has fired: it stays listed with its history. */
  enabled: z.boolean(),
  created_by: z.enum(['operator', 'agent']),
  created_at: z.string(),
  next_run: z.string().nullable(),
  last_run: z.string().nullable(),
  last_status: CronRunStatusSchema.nullable(),
  last_reason: z.string().nullable(),
});
export type CronJob = z.infer<typeof CronJobSchema>;

export const CronRunSchema = z.object({
  id: z.string(),
  job_id: z.string(),
  agent: z.string(),
  trigger: CronRunTriggerSchema,
  /** The time the run fell due; null for a manual run. */
  scheduled_for: z.string().nullable(),
  fired_at: z.string(),
  status: CronRunStatusSchema,
  reason: z.string().nullable(),
  /** The lane item that carries the job's message to the agent; null when skipped. */
  lane_item: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type CronRun = z.infer<typeof CronRunSchema>;

/** Agent tool set_cron: the job is the calling agent's. */
export const CronSetRequestSchema = z.strictObject({
  schedule: CronScheduleSchema,
  message: CronMessageSchema,
  tz: TimeZoneNameSchema.optional(),
});

/** Admin API: the operator names the agent and may choose the missed-run policy. */
export const CronAddRequestSchema = z.strictObject({
  agent: AgentNameSchema,
  schedule: CronScheduleSchema,
  message: CronMessageSchema,
  tz: TimeZoneNameSchema.optional(),
  missed: MissedPolicySchema.optional(),
});
export type CronAddRequest = z.infer<typeof CronAddRequestSchema>;

export const CronRemoveRequestSchema = z.strictObject({ id: CronJobIdSchema });

export const CronJobListSchema = z.object({ jobs: z.array(CronJobSchema) });
export const CronRunListSchema = z.object({ runs: z.array(CronRunSchema) });
export const CronRemoveResponseSchema = z.object({ removed: z.string() });
export const CronRunNowResponseSchema = z.object({ run: CronRunSchema });
