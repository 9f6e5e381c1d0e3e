// An agent's recent turns on the admin API (GET /api/agents/:name/history), for
// `legion chat <agent> --history`: every lane item of the agent, whatever started it
// (a person, a channel user, cron, a heartbeat, a webhook, a watcher, pub/sub, a
// message, a workflow step), newest first. Paging is by keyset: pass a page's
// `next_before` back as `before`; it is null on the last page.
import { z } from 'zod';
import { LaneItemKindSchema } from './fleet.js';
import { queryInt } from './blackboard.js';
import { HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT } from './history-limits.js';

export const HistoryQuerySchema = z.strictObject({
  limit: queryInt(z.int().min(1).max(HISTORY_MAX_LIMIT)).default(HISTORY_DEFAULT_LIMIT),
  before: queryInt(z.int().min(1)).optional(),
});

/** queued/running: not over yet; interrupted: cut short (the person left, the mesh stopped). */
export const TurnStateSchema = z.enum(['queued', 'running', 'done', 'failed', 'interrupted']);
export type TurnState = z.infer<typeof TurnStateSchema>;

export const HistoryTurnSchema = z.object({
  /** The lane item's id (chat_…, cronr_…, dlv_…). */
  id: z.string(),
  /** Where it came from: the lane item kind, and a short label of the source (a cron job, a webhook's
   *  name, a topic and its publisher, a channel user); null where the kind says it all (chat). */
  origin: z.object({ kind: LaneItemKindSchema, source: z.string().nullable() }),
  /** What the agent was asked; null for chat turns stored before messages were kept. */
  input: z.string().nullable(),
  reply: z.string().nullable(),
  state: TurnStateSchema,
  /** Why it failed or was cut short (for a queued item being retried: the last attempt's error). */
  error: z.string().nullable(),
  attempts: z.number().int(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
});
export type HistoryTurn = z.infer<typeof HistoryTurnSchema>;

export const HistoryPageSchema = z.object({
  agent: z.string(),
  turns: z.array(HistoryTurnSchema),
  next_before: z.number().int().nullable(),
});
export type HistoryPage = z.infer<typeof HistoryPageSchema>;
