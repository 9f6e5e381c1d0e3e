// One agent reply on a platform: a typing indicator while the agent works, the text
// streamed into one message by rate-limited edits (nextStreamStep), then the complete
// reply split at the platform's size (splitReply) with the first part in the streamed
// message and the rest as new messages. Invariants: platform calls for one reply go out
// one at a time, in order; nothing is sent once `allowed()` turns false (the user was
// revoked); a failed edit while streaming is logged and the final text still goes out.
import type { ChatEvent } from '../../shared/wire/chat.js';
import type { Logger } from '../../shared/logging.js';
import { splitReply } from './split.js';
import { nextStreamStep, type StreamState } from './stream.js';
import type { ChannelAdapter } from './types.js';

/** Telegram shows "typing…" for 5 s, Discord for 10 s: renew a little before the shorter ends. */
const TYPING_RENEW_MS = 4500;

export interface RelayOptions {
  adapter: ChannelAdapter;
  chatId: string;
  /** False once the user may no longer receive anything. */
  allowed: () => boolean;
  logger: Logger;
  now?: () => number;
}

export interface ReplyRelay {
  /** Feed every event of the agent's turn. */
  onEvent(event: ChatEvent): void;
  /** The turn is over: sends the complete reply (or the error), stops typing. */
  finish(finalText: string): Promise<void>;
}

export function startReplyRelay(options: RelayOptions): ReplyRelay {
  const { adapter, chatId, allowed, logger } = options;
  const now = options.now ?? Date.now;
  const state: StreamState = { messageId: null, shown: '', lastAt: null };
  let buffered = '';
  let finished = false;
  let chain: Promise<void> = Promise.resolve();
  let pumpQueued = false;
  let wakeTimer: NodeJS.Timeout | null = null;

  const typing = () => {
    if (allowed())
      adapter
        .typing(chatId)
        .catch((err: unknown) =>
          logger.debug({ event: 'channel_typing_failed', err: String(err) }, 'typing indicator not shown'),
        );
  };
  typing();
  const typingTimer = setInterval(typing, TYPING_RENEW_MS);
  typingTimer.unref();

  const serial = (work: () => Promise<void>): Promise<void> => {
    chain = chain.then(work, work);
    return chain;
  };
  const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  const pump = () => {
    if (pumpQueued || finished) return;
    pumpQueued = true;
    void serial(async () => {
      pumpQueued = false;
      if (finished || !allowed()) return;
      const step = nextStreamStep(state, buffered, now(), adapter.limits);
      if (step.action === 'wait') {
        wakeTimer ??= setTimeout(() => {
          wakeTimer = null;
          pump();
        }, step.ms);
        return;
      }
      if (step.action === 'none') return;
      try {
        if (step.action === 'send') state.messageId = await adapter.send(chatId, step.text);
        else await adapter.edit(chatId, state.messageId ?? '', step.text);
        state.shown = step.text;
      } catch (err) {
        logger.warn(
          { event: 'channel_stream_failed', platform: adapter.platform, err: String(err) },
          'a streamed update did not go out',
        );
      } finally {
        state.lastAt = now();
      }
    });
  };

  /** Sends (or edits into place) one final part, keeping to the platform's pace. */
  const deliverPart = async (text: string, intoStreamed: boolean) => {
    if (!allowed()) return;
    if (state.lastAt !== null) {
      const gap = state.lastAt + adapter.limits.minIntervalMs - now();
      if (gap > 0) await wait(gap);
    }
    if (intoStreamed && state.messageId !== null) {
      if (text !== state.shown) await adapter.edit(chatId, state.messageId, text);
    } else {
      await adapter.send(chatId, text);
    }
    state.shown = text;
    state.lastAt = now();
  };

  return {
    onEvent(event) {
      if (event.type !== 'token') return;
      buffered += event.text;
      pump();
    },
    async finish(finalText) {
      finished = true;
      clearInterval(typingTimer);
      if (wakeTimer) clearTimeout(wakeTimer);
      await serial(async () => {
        const parts = splitReply(finalText.trim() === '' ? '(no reply)' : finalText, adapter.limits.maxChars);
        for (const [index, part] of parts.entries()) await deliverPart(part, index === 0);
      });
    },
  };
}
