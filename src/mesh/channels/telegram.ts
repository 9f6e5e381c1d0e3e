// Telegram through grammY: long polling by default (bot.start), or webhook mode (the
// mesh's POST /channels/telegram, checked with a secret token Telegram echoes). Only
// private chats reach agents. The bot token stays inside grammY's client in the mesh;
// client.apiRoot points it at another Bot API server (a local one, or the tests' stand-in).
import { Bot, GrammyError, webhookCallback } from 'grammy';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sha256Hex } from '../../shared/ids.js';
import type { TelegramChannelConfig } from '../../shared/config/channels.js';
import type { ChannelAdapter, InboundMessage } from './types.js';

/** Telegram's limit per message, and about one edit a second per chat. */
const LIMITS = { maxChars: 4096, minIntervalMs: 1000 };

export class TelegramAdapter implements ChannelAdapter {
  readonly platform = 'telegram' as const;
  readonly limits = LIMITS;
  private readonly bot: Bot;
  private readonly config: TelegramChannelConfig;
  private readonly secretToken: string;
  private handler: ((request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) | null = null;

  constructor(config: TelegramChannelConfig, token: string) {
    this.config = config;
    this.bot = new Bot(token, config.api_root ? { client: { apiRoot: config.api_root } } : {});
    // Derived, so a restart needs no stored secret; it proves a webhook call came from Telegram.
    this.secretToken = sha256Hex(`legion-telegram-webhook:${token}`).slice(0, 64);
  }

  async start(onMessage: (message: InboundMessage) => Promise<void>): Promise<void> {
    this.bot.on('message:text', async (ctx) => {
      if (ctx.chat.type !== 'private') return;
      const from = ctx.from;
      await onMessage({
        platform: 'telegram',
        messageKey: `${ctx.chat.id}:${ctx.message.message_id}`,
        userId: String(from.id),
        chatId: String(ctx.chat.id),
        name: from.username ?? [from.first_name, from.last_name].filter(Boolean).join(' '),
        text: ctx.message.text,
      });
    });
    await this.bot.init();
    if (this.config.mode === 'webhook') {
      await this.bot.api.setWebhook(this.config.webhook_url ?? '', { secret_token: this.secretToken });
      this.handler = webhookCallback(this.bot, 'fastify', { secretToken: this.secretToken });
      return;
    }
    // Resolves only when polling stops; a fatal error (a revoked token) ends it, and is logged by the caller's catch.
    void this.bot.start({ drop_pending_updates: false }).catch(() => undefined);
  }

  /** webhook mode: the handler of POST /channels/telegram; null in polling mode. */
  webhook(): ((request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) | null {
    return this.handler;
  }

  async stop(): Promise<void> {
    if (this.bot.isRunning()) await this.bot.stop();
  }

  async send(chatId: string, text: string): Promise<string> {
    const sent = await this.bot.api.sendMessage(chatId, text);
    return String(sent.message_id);
  }

  async edit(chatId: string, messageId: string, text: string): Promise<void> {
    try {
      await this.bot.api.editMessageText(chatId, Number(messageId), text);
    } catch (err) {
      // Telegram refuses an edit that changes nothing; the message already shows the text.
      if (err instanceof GrammyError && err.description.includes('message is not modified')) return;
      throw err;
    }
  }

  async typing(chatId: string): Promise<void> {
    await this.bot.api.sendChatAction(chatId, 'typing');
  }
}
