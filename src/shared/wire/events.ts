// Event-log entries as the admin API returns them (legion logs).
import { z } from 'zod';

export const EventEntrySchema = z.object({
  id: z.number().int(),
  at: z.string(),
  agent: z.string().nullable(),
  kind: z.string(),
  subject: z.string(),
  detail: z.unknown(),
  trace: z.string().nullable(),
});
export type EventEntry = z.infer<typeof EventEntrySchema>;

export const EventListSchema = z.object({ events: z.array(EventEntrySchema), last_id: z.number().int() });
export type EventList = z.infer<typeof EventListSchema>;
