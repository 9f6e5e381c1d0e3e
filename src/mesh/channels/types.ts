// What the channel core needs from a platform (Telegram, Discord): receive messages,
// send, edit, show typing. An adapter holds its bot token and never hands it out.
import type { ChannelPlatform } from '../../shared/wire/channels.js';
import type { StreamLimits } from './stream.js';

export interface InboundMessage {
  platform: ChannelPlatform;
  /** Unique per platform message, so a message the platform re-sends is taken once. */
  messageKey: string;
  userId: string;
  /** Where replies go: the private chat or the channel the message came from. */
  chatId: string;
  /** A name the operator recognizes (username, else display name). */
  name: string;
  text: string;
}

export interface ChannelAdapter {
  readonly platform: ChannelPlatform;
  readonly limits: StreamLimits;
  /** Starts receiving; `onMessage` is called for every message meant for the bot. */
  start(onMessage: (message: InboundMessage) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  /** Sends a new message; resolves with its id. */
  send(chatId: string, text: string): Promise<string>;
  edit(chatId: string, messageId: string, text: string): Promise<void>;
  typing(chatId: string): Promise<void>;
  /** The user's private chat, for messages they did not ask for (the outbox); the chat they
   *  paired from when absent (on Telegram that is their private chat already). */
  privateChat?(userId: string): Promise<string>;
}
