// How full a conversation's context is, in tokens. Pure. Invariants: the provider's own
// count (prompt + completion of the last call) is the base whenever it covers a prefix
// of the current messages; only messages added since are estimated, at 4 characters a
// token; without a usable count (first call, after compaction, a provider that reports
// no usage) everything is estimated, including the fixed part of every request (the
// system prompt and the tool definitions).
import type { Message, Usage } from '../../shared/wire/llm.js';

export const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export function estimateMessageTokens(message: Message): number {
  const calls = message.role === 'assistant' ? (message.tool_calls ?? []) : [];
  const chars =
    (message.content ?? '').length + calls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0);
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

export function estimateMessagesTokens(messages: readonly Message[]): number {
  return messages.reduce((sum, message) => sum + estimateMessageTokens(message), 0);
}

/** What the provider reported for the last call, and how many of the conversation's
 *  leading messages (the answer included) that count covers. */
export interface UsageMark {
  tokens: number;
  messageCount: number;
}

/** The mark after a call whose answer is now the last of `messageCount` messages; null
 *  when the provider reported no prompt tokens (some local servers do not). */
export function markAfterCall(usage: Usage, messageCount: number): UsageMark | null {
  if (usage.prompt_tokens <= 0) return null;
  return { tokens: usage.prompt_tokens + usage.completion_tokens, messageCount };
}

/** Tokens the next request of this conversation would take. `fixedTokens` is the
 *  estimate of the system prompt and tool definitions, used only without a mark. */
export function conversationTokens(messages: readonly Message[], mark: UsageMark | null, fixedTokens: number): number {
  if (mark === null || mark.messageCount > messages.length) return fixedTokens + estimateMessagesTokens(messages);
  return mark.tokens + estimateMessagesTokens(messages.slice(mark.messageCount));
}
