// read_agent_history: one agent reading another's daily log (memory/YYYY-MM-DD.md in its
// workspace) through the mesh. The agent asks the mesh (POST /mesh/agents/history); the
// mesh checks can_read_history and asks the target's agent server (POST /history),
// which reads its own files. Both hops validate with these schemas; limits are here so
// the tool, the mesh and the agent server agree on them.
import { z } from 'zod';
import { AgentNameSchema } from '../names.js';

export const AGENT_HISTORY_DEFAULT_LIMIT = 10;
export const AGENT_HISTORY_MAX_LIMIT = 50;
/** An entry's text is cut here in an answer: a chat turn may hold two 4000-character messages. */
export const AGENT_HISTORY_ENTRY_CHARS = 2000;

const DATE_MESSAGE = 'expected a date as YYYY-MM-DD, for example 2026-03-14';

/** A calendar day, UTC, as daily logs are named. */
export const HistoryDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, DATE_MESSAGE)
  .refine((text) => {
    const day = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === text;
  }, 'expected a real calendar date as YYYY-MM-DD');

const LIMIT_MESSAGE = `expected a limit from 1 to ${AGENT_HISTORY_MAX_LIMIT}`;
const HistoryLimitSchema = z.int().min(1, LIMIT_MESSAGE).max(AGENT_HISTORY_MAX_LIMIT, LIMIT_MESSAGE);
const HistoryQueryTextSchema = z
  .string()
  .trim()
  .min(1, 'expected words to look for (or leave query out)')
  .max(200, 'expected a query of at most 200 characters');

/** What narrows the entries: a day, words that must all occur (any case), how many. */
export const HistoryLookupSchema = z.strictObject({
  date: HistoryDateSchema.optional(),
  query: HistoryQueryTextSchema.optional(),
  limit: HistoryLimitSchema.default(AGENT_HISTORY_DEFAULT_LIMIT),
});
export type HistoryLookup = z.output<typeof HistoryLookupSchema>;

/** POST /mesh/agents/history: the calling agent asks for `agent`'s entries. */
export const AgentHistoryRequestSchema = HistoryLookupSchema.extend({ agent: AgentNameSchema });

export const DailyLogEntrySchema = z.object({
  date: z.string(),
  /** HH:MM:SS UTC from the entry's heading; null for text above the first heading. */
  time: z.string().nullable(),
  /** What wrote it: `chat` (a turn), `saved` (memory_save), or what the heading says. */
  kind: z.string(),
  text: z.string(),
});
export type DailyLogEntry = z.infer<typeof DailyLogEntrySchema>;

/** POST /history on the agent server (the entries alone) and the mesh's answer (with `agent`). */
export const HistoryEntriesSchema = z.object({
  /** Newest first, at most the limit. */
  entries: z.array(DailyLogEntrySchema),
  /** More entries matched than the limit let through. */
  more: z.boolean(),
});
export type HistoryEntries = z.infer<typeof HistoryEntriesSchema>;

export const AgentHistoryResponseSchema = HistoryEntriesSchema.extend({ agent: z.string() });
export type AgentHistoryResponse = z.infer<typeof AgentHistoryResponseSchema>;
