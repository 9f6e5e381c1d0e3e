// The Discord adapter alone against the stand-in: a token Discord refuses fails the
// start with an error naming the LEGION_CRED_ variable to fix (and the gateway is never
// tried); the real clients identify with only the non-privileged intents legion needs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayIntentBits } from 'discord-api-types/v10';
import { DiscordAdapter } from '../../src/mesh/channels/discord.js';
import { createLogger } from '../../src/shared/logging.js';
import { startFakeDiscord, type FakeDiscord } from '../fakes/fake-discord.js';

const TOKEN = 'MTMwMDAwMDAwMDAwMDAwMDAwMg.GfAkEd.FakeDiscordBotTokenForAdapterTests_98765';
const config = (api_base: string) => ({
  token_credential: 'discord_bot',
  allowed_guilds: [],
  allowed_channels: [],
  api_base,
});
const deps = { logger: createLogger({}, { write: () => undefined }), scrub: (text: string) => text };

describe('discord adapter', () => {
  let dc: FakeDiscord;
  beforeAll(async () => {
    dc = await startFakeDiscord(TOKEN);
  });
  afterAll(async () => {
    await dc?.close();
  });

  it('refuses to start with a token Discord rejects, naming the variable to fix', async () => {
    const adapter = new DiscordAdapter(config(dc.url), 'not-the-token-at-all-0123456789', deps);
    await expect(adapter.start(async () => undefined)).rejects.toMatchObject({
      code: 'channel_auth_failed',
      message: expect.stringContaining('LEGION_CRED_DISCORD_BOT'),
    });
    await adapter.stop();
    expect(dc.calls.some((c) => c.route === '/gateway/bot')).toBe(false);
    expect(dc.identifies).toHaveLength(0);
  });

  it('identifies with Guild Messages and Direct Messages only (no privileged Message Content)', async () => {
    const adapter = new DiscordAdapter(config(dc.url), TOKEN, deps);
    await adapter.start(async () => undefined);
    await dc.ready();
    await adapter.stop();
    expect(dc.identifies.map((i) => i.intents)).toEqual([
      GatewayIntentBits.GuildMessages | GatewayIntentBits.DirectMessages,
    ]);
  });
});
