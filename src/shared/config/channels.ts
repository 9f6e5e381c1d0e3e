// `channels:` in config/mesh.yaml: the chat platforms the mesh connects agents to.
// Strict like the rest of mesh.yaml. A bot token is never written here: token_credential
// names a LEGION_CRED_ secret (in .env or the mesh's environment) that only the mesh reads.
import { z } from 'zod';
import { AGENT_NAME_PATTERN } from '../names.js';

const CredentialNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_-]{1,64}$/,
    'expected the name of a LEGION_CRED_ secret, such as telegram_bot for LEGION_CRED_TELEGRAM_BOT',
  );
const AgentNameRefSchema = z.string().regex(AGENT_NAME_PATTERN, 'expected an agent name from config/agents.yaml');
/** Discord ids are snowflakes: decimal strings. */
const SnowflakeSchema = z.string().regex(/^\d{1,20}$/, 'expected a Discord id (digits)');

export const TelegramChannelSchema = z
  .strictObject({
    token_credential: CredentialNameSchema,
    /** polling: the mesh asks Telegram for updates (works behind NAT); webhook: Telegram posts them. */
    mode: z.enum(['polling', 'webhook']).default('polling'),
    /** Bot API base URL; https://api.telegram.org unless set (a local Bot API server, tests). */
    api_root: z.url().optional(),
    /** webhook mode: the public https URL that reaches POST /channels/telegram on the admin or webhook listener. */
    webhook_url: z.url().optional(),
    /** Agent a newly paired user talks to; the first one they are paired with otherwise. */
    default_agent: AgentNameRefSchema.optional(),
  })
  .refine((telegram) => telegram.mode !== 'webhook' || telegram.webhook_url !== undefined, {
    message: 'webhook mode needs webhook_url: the public URL Telegram posts updates to',
    path: ['webhook_url'],
  });
export type TelegramChannelConfig = z.infer<typeof TelegramChannelSchema>;

export const DiscordChannelSchema = z.strictObject({
  token_credential: CredentialNameSchema,
  /** Servers where a mention of the bot reaches an agent; direct messages always do (after pairing). */
  allowed_guilds: z.array(SnowflakeSchema).default([]),
  /** Channels where a mention reaches an agent; when set, mentions elsewhere are ignored. */
  allowed_channels: z.array(SnowflakeSchema).default([]),
  /** REST base URL (https://discord.com/api unless set). The gateway URL comes from its /gateway/bot. */
  api_base: z.url().optional(),
  default_agent: AgentNameRefSchema.optional(),
});
export type DiscordChannelConfig = z.infer<typeof DiscordChannelSchema>;

export const ChannelsConfigSchema = z.strictObject({
  telegram: TelegramChannelSchema.optional(),
  discord: DiscordChannelSchema.optional(),
});
