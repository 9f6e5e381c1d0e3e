// Channels over the wire: the admin API behind `legion channels pair|users|revoke`, the
// agent API behind the notify_user tool, and the body of a channel item on a lane.
import { z } from 'zod';
import { AgentNameSchema } from '../names.js';

export const ChannelPlatformSchema = z.enum(['telegram', 'discord']);
export type ChannelPlatform = z.infer<typeof ChannelPlatformSchema>;

/** One-time pairing codes: 8 letters and digits without look-alikes (0/O, 1/I/L). */
export const PairingCodeSchema = z
  .string()
  .trim()
  .transform((code) => code.toUpperCase())
  .pipe(z.string().regex(/^[A-HJKMNP-Z2-9]{8}$/, 'expected the 8-character code the bot sent, such as K7Q2MX9P'));

export const PairRequestSchema = z.strictObject({
  code: PairingCodeSchema,
  /** Agents the user may talk to; every configured agent when absent. */
  agents: z.array(AgentNameSchema).min(1, 'expected at least one agent').optional(),
});

export const ChannelUserSchema = z.object({
  /** platform:id, what `legion channels revoke` takes. */
  user: z.string(),
  platform: ChannelPlatformSchema,
  name: z.string(),
  agents: z.array(z.string()),
  current_agent: z.string(),
  paired_at: z.string(),
});
export type ChannelUser = z.infer<typeof ChannelUserSchema>;
export const ChannelUserListSchema = z.object({ users: z.array(ChannelUserSchema) });
export const RevokeResponseSchema = z.object({ revoked: z.string() });

export const NotifyUserRequestSchema = z.strictObject({
  text: z.string().min(1, 'expected the text to send').max(16_000),
});
/** users: paired users the message was queued for; 0 when nobody is paired with the agent. */
export const NotifyUserResponseSchema = z.object({ users: z.number().int().nonnegative() });

/** A channel lane item: the user's message and where the reply goes. */
export const ChannelItemBodySchema = z.object({
  platform: ChannelPlatformSchema,
  user_id: z.string(),
  chat_id: z.string(),
  text: z.string(),
  /** The agent session key of this user (per agent, never the REPL's). */
  session: z.string(),
});
export type ChannelItemBody = z.infer<typeof ChannelItemBodySchema>;
