// Bodies of the web dashboard: over the admin API (legion dashboard [--revoke]) a
// one-time login code and the revocation of every session; to the browser, the live
// stream's messages.
import { z } from 'zod';
import { AgentStatusEntrySchema } from './admin.js';
import { CostReportSchema } from './costs.js';
import type { EventEntry } from './events.js';

export const LoginCodeResponseSchema = z.object({
  /** Opens one session, once, until expires_at. */
  login_url: z.string(),
  expires_at: z.string(),
});
export type LoginCodeResponse = z.infer<typeof LoginCodeResponseSchema>;

export const RevokeSessionsResponseSchema = z.object({
  /** Sessions that were open and are now ended (unused login codes are dropped too). */
  revoked: z.number().int().nonnegative(),
});
export type RevokeSessionsResponse = z.infer<typeof RevokeSessionsResponseSchema>;

/** What the fleet page shows: every agent's status and today's spend with the budgets in force. */
export const FleetSnapshotSchema = z.object({ agents: z.array(AgentStatusEntrySchema), costs: CostReportSchema });
export type FleetSnapshot = z.infer<typeof FleetSnapshotSchema>;

/** One message of the dashboard's live stream (GET /ui/api/live, server-sent events). */
export type LiveMessage = { type: 'fleet'; fleet: FleetSnapshot } | { type: 'events'; events: EventEntry[] };
