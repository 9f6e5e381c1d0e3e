// The worst case of one LLM call (chat or embeddings), reserved against budgets before
// the provider is called. Invariants: pure; never below what a chat request can be
// billed for its completion (max_tokens, or DEFAULT_COMPLETION_RESERVE when the request
// sets none); prompts and embedding inputs are estimated from their text at
// CHARS_PER_TOKEN, the usual ratio for English with both providers' tokenizers, plus a
// per-message allowance for the role markers the providers add.
import type { LlmChatRequestParsed, Message } from '../../shared/wire/llm.js';

export const CHARS_PER_TOKEN = 4;

/** Reserved for the answer of a request without max_tokens: the mesh's Anthropic
 *  default, and what an agent's turn rarely exceeds. Settlement charges the real count. */
export const DEFAULT_COMPLETION_RESERVE = 4096;

const TOKENS_PER_MESSAGE = 4;
/** About 1600 tokens: what providers bill for a screenshot-sized picture. */
const IMAGE_CHARS = 6_400;

export interface CallEstimate {
  prompt_tokens: number;
  completion_tokens: number;
}

function messageChars(message: Message): number {
  switch (message.role) {
    case 'assistant':
      return (
        (message.content ?? '').length +
        (message.tool_calls ?? []).reduce((sum, c) => sum + c.id.length + c.name.length + c.arguments.length, 0)
      );
    case 'tool':
      // A picture costs the provider about as much as this many characters of text, whatever its byte size.
      return message.content.length + message.tool_call_id.length + (message.images?.length ?? 0) * IMAGE_CHARS;
    default:
      return message.content.length;
  }
}

export function estimateTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

export function estimatePromptTokens(request: Pick<LlmChatRequestParsed, 'messages' | 'tools'>): number {
  const messageTokens = request.messages.reduce(
    (sum, m) => sum + estimateTokens(messageChars(m)) + TOKENS_PER_MESSAGE,
    0,
  );
  const toolTokens =
    request.tools && request.tools.length > 0 ? estimateTokens(JSON.stringify(request.tools).length) : 0;
  return messageTokens + toolTokens;
}

export function worstCase(request: Pick<LlmChatRequestParsed, 'messages' | 'tools' | 'max_tokens'>): CallEstimate {
  return {
    prompt_tokens: estimatePromptTokens(request),
    completion_tokens: request.max_tokens ?? DEFAULT_COMPLETION_RESERVE,
  };
}

/** An embeddings call is billed for its input only, so its worst case is the input's estimate. */
export function embeddingWorstCase(input: readonly string[]): CallEstimate {
  return { prompt_tokens: input.reduce((sum, text) => sum + estimateTokens(text.length), 0), completion_tokens: 0 };
}
