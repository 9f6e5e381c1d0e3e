// Which Discord messages reach the channel core, and as what. Pure. A direct message
// always does (pairing decides the rest); in a server, only a message that mentions the
// bot, in a server listed in allowed_guilds (when set) and a channel listed in
// allowed_channels (when set); with neither list set, servers are closed. Messages from
// bots and webhooks (the bot's own included) never do. The bot's mention is cut out of
// the text; a bare mention asks for /help.
import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import type { DiscordChannelConfig } from '../../shared/config/channels.js';
import type { InboundMessage } from './types.js';

export type DiscordAccess = Pick<DiscordChannelConfig, 'allowed_guilds' | 'allowed_channels'>;

export function mentionAllowed(guildId: string, channelId: string, access: DiscordAccess): boolean {
  const { allowed_guilds: guilds, allowed_channels: channels } = access;
  if (guilds.length === 0 && channels.length === 0) return false;
  return (guilds.length === 0 || guilds.includes(guildId)) && (channels.length === 0 || channels.includes(channelId));
}

export function toInbound(
  data: GatewayMessageCreateDispatchData,
  botId: string,
  access: DiscordAccess,
): InboundMessage | null {
  if (data.author.bot === true || data.webhook_id !== undefined || data.author.id === botId) return null;
  if (data.guild_id !== undefined) {
    if (!data.mentions.some((user) => user.id === botId)) return null;
    if (!mentionAllowed(data.guild_id, data.channel_id, access)) return null;
  }
  const text = data.content.replace(new RegExp(`\\s*<@!?${botId}>\\s*`, 'g'), ' ').trim();
  return {
    platform: 'discord',
    messageKey: data.id,
    userId: data.author.id,
    chatId: data.channel_id,
    name: data.author.username,
    text: text === '' ? '/help' : text,
  };
}
