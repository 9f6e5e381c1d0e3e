// Chat between a person (CLI/REPL), the mesh and an agent. The same event stream
// flows agent -> mesh -> CLI as server-sent events, one JSON object per event.
import { z } from 'zod';
import { ErrorBodySchema } from './error.js';
import { UsageSchema } from './llm.js';

export const TraceIdSchema = z
  .string()
  .regex(/^[\w.-]{1,64}$/, 'expected a trace id of letters, digits, _ . - (at most 64)');

export const SessionKeySchema = z
  .string()
  .regex(/^[\w.:-]{1,128}$/, 'expected a session key of letters, digits, _ . : - (at most 128)');

export const ChatRequestSchema = z.strictObject({
  message: z.string().min(1, 'expected a non-empty message'),
  /** Set by the mesh: ties every mesh action of this turn to one trace in the event log. */
  trace: TraceIdSchema.optional(),
  /** A named conversation of its own (a channel user's, set by the mesh); absent: the agent's main session (REPL, triggers). */
  session: SessionKeySchema.optional(),
});

export const ChatEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('token'), text: z.string() }),
  z.object({ type: z.literal('tool_call'), id: z.string(), name: z.string(), arguments: z.string() }),
  z.object({ type: z.literal('tool_result'), id: z.string(), name: z.string(), ok: z.boolean(), output: z.string() }),
  z.object({
    type: z.literal('done'),
    reply: z.string(),
    tool_rounds: z.number().int().nonnegative(),
    usage: UsageSchema,
  }),
  z.object({ type: z.literal('error'), error: ErrorBodySchema }),
]);
export type ChatEvent = z.infer<typeof ChatEventSchema>;

/** POST /chat/reset: without a session, the main one starts over. */
export const ResetRequestSchema = z.strictObject({ session: SessionKeySchema.optional() });

export const ResetResponseSchema = z.object({ ok: z.literal(true), session: z.string() });
export type ResetResponse = z.infer<typeof ResetResponseSchema>;
