// Agent <-> mesh bodies for coordination other than the blackboard: pub/sub, the
// message router, the fleet list and artifact registration.
import { z } from 'zod';
import { AgentNameSchema } from '../names.js';

export const TopicSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected a topic of letters, digits, _ . : - (at most 128)');
/** Subscriptions may use globs: new_* or leads.** */
export const TopicPatternSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:*?-]{1,128}$/, 'expected a topic or a glob such as new_* (letters, digits, _ . : - * ?)');

const MAX_PAYLOAD_BYTES = 64 * 1024;
export const PayloadSchema = z
  .unknown()
  .refine((value) => value !== undefined && JSON.stringify(value).length <= MAX_PAYLOAD_BYTES, {
    message: `expected a JSON payload of at most ${MAX_PAYLOAD_BYTES / 1024} KB`,
  });

export const PublishRequestSchema = z.strictObject({ topic: TopicSchema, payload: PayloadSchema });
/** refused: subscribers whose lane was full (mesh.lane_depth_cap); they do not get this event. */
export const PublishResponseSchema = z.object({
  event_id: z.string(),
  topic: z.string(),
  deliveries: z.number().int().nonnegative(),
  refused: z.array(z.object({ agent: z.string(), reason: z.string() })).default([]),
});
export type PublishResponse = z.infer<typeof PublishResponseSchema>;

export const SubscribeRequestSchema = z.strictObject({ topic: TopicPatternSchema });
export const SubscribeResponseSchema = z.object({ agent: z.string(), topic: z.string(), subscribed: z.boolean() });

export const SendMessageRequestSchema = z.strictObject({
  agent: AgentNameSchema,
  message: z
    .string()
    .min(1)
    .max(32 * 1024),
});
export const SendMessageResponseSchema = z.object({ delivery_id: z.string(), message_id: z.string(), to: z.string() });

export const FleetListSchema = z.object({
  agents: z.array(z.object({ name: z.string(), role: z.string(), health: z.string() })),
});

export const ArtifactRegisterRequestSchema = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9_.-][A-Za-z0-9_./-]{0,199}$/,
      'expected an artifact name of letters, digits, _ . - and / (at most 200)',
    ),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export const ArtifactRegisterResponseSchema = z.object({ key: z.string(), version: z.number().int() });

/** event, message: pub/sub and the router. cron, heartbeat, webhook, watcher: triggers,
 *  whose body is a TriggerBody (one text for the agent). chat: a person's turn, relayed
 *  live by the admin API; the only interactive kind, so it goes ahead of the others.
 *  task: a workflow step, handed over in task mode (POST /task) rather than as a turn. */
/** channel: a paired Telegram or Discord user's message, answered on that platform. */
export const LaneItemKindSchema = z.enum([
  'chat',
  'event',
  'message',
  'cron',
  'heartbeat',
  'webhook',
  'watcher',
  'task',
  'channel',
]);
export type LaneItemKind = z.infer<typeof LaneItemKindSchema>;
