// Which Discord messages reach the channel core: DMs always, server messages only when
// they mention the bot in an allowed server/channel, never a bot's or a webhook's; the
// mention is cut from the text.
import { describe, expect, it } from 'vitest';
import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import { mentionAllowed, toInbound } from '../../../src/mesh/channels/discord-inbound.js';

const BOT = '900';
const ALICE = { id: '501', username: 'alice', discriminator: '0', global_name: 'Alice A', avatar: null };
const botUser = { id: BOT, username: 'legion', discriminator: '0', global_name: null, avatar: null, bot: true };
const OPEN = { allowed_guilds: ['10'], allowed_channels: [] };

function message(
  content: string,
  extra: Partial<GatewayMessageCreateDispatchData> = {},
): GatewayMessageCreateDispatchData {
  return {
    id: '7001',
    channel_id: '300',
    author: ALICE,
    content,
    timestamp: '2026-12-05T00:00:00.000Z',
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: content.includes(`<@${BOT}>`) || content.includes(`<@!${BOT}>`) ? [botUser] : [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: 0,
    ...extra,
  } as GatewayMessageCreateDispatchData;
}

describe('toInbound', () => {
  it('takes a direct message as it is, keyed by its id, replying in the DM channel', () => {
    expect(toInbound(message('hello there'), BOT, { allowed_guilds: [], allowed_channels: [] })).toEqual({
      platform: 'discord',
      messageKey: '7001',
      userId: '501',
      chatId: '300',
      name: 'alice',
      text: 'hello there',
    });
  });

  it('takes a mention in an allowed server and cuts the mention out', () => {
    expect(toInbound(message(`<@${BOT}> @beta hi`, { guild_id: '10' }), BOT, OPEN)?.text).toBe('@beta hi');
    expect(toInbound(message(`hey <@!${BOT}> what now`, { guild_id: '10' }), BOT, OPEN)?.text).toBe('hey what now');
    expect(toInbound(message(`<@${BOT}>`, { guild_id: '10' }), BOT, OPEN)?.text).toBe('/help');
  });

  it('ignores server messages without a mention, or in a server or channel not allowed', () => {
    expect(toInbound(message('hi all', { guild_id: '10' }), BOT, OPEN)).toBeNull();
    expect(toInbound(message(`<@${BOT}> hi`, { guild_id: '11' }), BOT, OPEN)).toBeNull();
    expect(
      toInbound(message(`<@${BOT}> hi`, { guild_id: '10' }), BOT, { allowed_guilds: [], allowed_channels: [] }),
    ).toBeNull();
  });

  it('ignores bots, webhooks and the bot itself', () => {
    expect(toInbound(message('hi', { author: { ...ALICE, bot: true } }), BOT, OPEN)).toBeNull();
    expect(toInbound(message('hi', { webhook_id: '77' }), BOT, OPEN)).toBeNull();
    expect(toInbound(message('hi', { author: botUser }), BOT, OPEN)).toBeNull();
  });
});

describe('mentionAllowed', () => {
  it('is closed with neither list, and narrows by both lists when set', () => {
    expect(mentionAllowed('10', '300', { allowed_guilds: [], allowed_channels: [] })).toBe(false);
    expect(mentionAllowed('10', '300', { allowed_guilds: ['10'], allowed_channels: [] })).toBe(true);
    expect(mentionAllowed('10', '300', { allowed_guilds: [], allowed_channels: ['300'] })).toBe(true);
    expect(mentionAllowed('10', '301', { allowed_guilds: ['10'], allowed_channels: ['300'] })).toBe(false);
    expect(mentionAllowed('11', '300', { allowed_guilds: ['10'], allowed_channels: ['300'] })).toBe(false);
  });
});
