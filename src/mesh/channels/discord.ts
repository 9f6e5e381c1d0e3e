// Discord through @discordjs/core over @discordjs/rest and @discordjs/ws: the gateway
// brings messages (which ones reach agents: discord-inbound.ts), REST sends, edits and
// shows typing. The bot token stays inside those two clients in the mesh. api_base
// points REST at another server; the gateway URL is whatever that server's
// GET /gateway/bot names, which is how the tests reach their stand-in.
import { setTimeout as delay } from 'node:timers/promises';
import { Client, GatewayDispatchEvents, GatewayIntentBits, type APIUser } from '@discordjs/core';
import { DiscordAPIError, REST } from '@discordjs/rest';
import { WebSocketManager, WebSocketShardEvents, type SessionInfo } from '@discordjs/ws';
import type { DiscordChannelConfig } from '../../shared/config/channels.js';
import { LegionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import { credentialVariable } from '../credentials/handles.js';
import { toInbound } from './discord-inbound.js';
import type { ChannelAdapter, InboundMessage } from './types.js';

/** Discord's limit per message; its per-channel limit is 5 messages or edits in 5 s, so one a second. */
const LIMITS = { maxChars: 2000, minIntervalMs: 1000 };
/** Not the privileged Message Content intent: Discord sends a bot the text of DMs and of messages that mention it without it. */
const INTENTS = GatewayIntentBits.GuildMessages | GatewayIntentBits.DirectMessages;
const STOP_WAIT_MS = 5000;
/** The bot's text never pings @everyone, roles or users. */
const NO_PINGS = { allowed_mentions: { parse: [] } };

export interface DiscordAdapterDeps {
  logger: Logger;
  /** Removes secrets (the token) from text bound for the log. */
  scrub: (text: string) => string;
}

export class DiscordAdapter implements ChannelAdapter {
  readonly platform = 'discord' as const;
  readonly limits = LIMITS;
  private readonly config: DiscordChannelConfig;
  private readonly deps: DiscordAdapterDeps;
  private readonly gateway: WebSocketManager;
  private readonly client: Client;
  /** DM channel per user id: Discord returns the same one every time, so ask once. */
  private readonly dmChannels = new Map<string, string>();
  private stopping = false;
  private connecting: Promise<void> = Promise.resolve();

  constructor(config: DiscordChannelConfig, token: string, deps: DiscordAdapterDeps) {
    this.config = config;
    this.deps = deps;
    const rest = new REST({
      version: '10',
      ...(config.api_base === undefined ? {} : { api: config.api_base }),
    }).setToken(token);
    // Sessions kept per adapter, not in the library's process-wide default store, so a mesh never resumes another's session.
    const sessions = new Map<number, SessionInfo>();
    this.gateway = new WebSocketManager({
      token,
      intents: INTENTS,
      rest,
      retrieveSessionInfo: (shardId) => sessions.get(shardId) ?? null,
      updateSessionInfo: (shardId, info) => void (info ? sessions.set(shardId, info) : sessions.delete(shardId)),
    });
    this.client = new Client({ rest, gateway: this.gateway });
  }

  async start(onMessage: (message: InboundMessage) => Promise<void>): Promise<void> {
    const me = await this.whoAmI();
    this.client.on(GatewayDispatchEvents.MessageCreate, ({ data }) => {
      const message = toInbound(data, me.id, this.config);
      if (message) void onMessage(message);
    });
    const { logger, scrub } = this.deps;
    this.gateway.on(WebSocketShardEvents.Ready, () =>
      logger.info(
        { event: 'channel_gateway_ready', platform: 'discord', bot: me.username },
        'discord gateway connected',
      ),
    );
    this.gateway.on(WebSocketShardEvents.Error, (err) =>
      logger.warn(
        { event: 'channel_gateway_error', platform: 'discord', err: scrub(String(err)) },
        'discord gateway error',
      ),
    );
    this.gateway.on(WebSocketShardEvents.Closed, (code) => {
      if (!this.stopping)
        logger.warn(
          { event: 'channel_gateway_closed', platform: 'discord', code },
          `discord gateway closed (${code}); the client reconnects unless Discord refused the bot (4004 bad token, 4014 intents not allowed)`,
        );
    });
    // Not awaited: the gateway reconnects on its own, and a slow Discord must not hold up the mesh's start.
    this.connecting = this.gateway
      .connect()
      .catch((err: unknown) =>
        logger.error(
          { event: 'channel_start_failed', platform: 'discord', err: scrub(String(err)) },
          'discord gateway did not connect',
        ),
      );
  }

  /** The bot's user, which also checks the token and the REST address before the gateway is tried. */
  private async whoAmI(): Promise<APIUser> {
    try {
      return await this.client.api.users.getCurrent();
    } catch (err) {
      if (err instanceof DiscordAPIError && err.status === 401) {
        const variable = credentialVariable(this.config.token_credential);
        throw new LegionError(
          'channel_auth_failed',
          `Discord refused the bot token in ${variable}: copy the bot's current token (Bot page of the developer portal) into ${variable} and restart the mesh`,
        );
      }
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // @discordjs/ws reconnects when destroyed while it waits for HELLO or READY, so let a
    // connection under way finish first (a bounded wait: Discord may not be answering).
    await Promise.race([this.connecting, delay(STOP_WAIT_MS, undefined, { ref: false })]);
    await this.gateway.destroy();
  }

  async send(chatId: string, text: string): Promise<string> {
    const sent = await this.client.api.channels.createMessage(chatId, { content: text, ...NO_PINGS });
    return sent.id;
  }

  async edit(chatId: string, messageId: string, text: string): Promise<void> {
    await this.client.api.channels.editMessage(chatId, messageId, { content: text, ...NO_PINGS });
  }

  async typing(chatId: string): Promise<void> {
    await this.client.api.channels.showTyping(chatId);
  }

  /** Messages nobody asked for (pairing notice, notify_user) go to the user's DM, not the server channel they may have paired from. */
  async privateChat(userId: string): Promise<string> {
    const known = this.dmChannels.get(userId);
    if (known !== undefined) return known;
    const channel = await this.client.api.users.createDM(userId);
    this.dmChannels.set(userId, channel.id);
    return channel.id;
  }
}
