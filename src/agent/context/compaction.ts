// When to compact a conversation and what to keep. Pure decision functions returning
// values. Invariants: the kept part is a suffix of the messages that holds at least the
// last `keepLast` of them and never starts with a tool result, so an assistant message
// with tool calls always stays with its results (the kept window grows backwards to
// include the call); a plan always drops something other than earlier summaries, so
// compacting twice in a row cannot just summarize a summary.
import { LegionError } from '../../shared/errors.js';
import type { Message } from '../../shared/wire/llm.js';
import { isSummaryMessage } from './transcript.js';

/** Compaction starts when the next request would fill this share of the window. */
export const COMPACT_AT_FRACTION = 0.7;
/** Messages kept verbatim after a compaction. */
export const KEEP_LAST_MESSAGES = 4;
/** Messages kept when the provider reports an overflow anyway ("compact harder"). */
export const KEEP_LAST_ON_OVERFLOW = 1;

export interface CompactionPlan {
  /** Index of the first kept message. */
  keepFrom: number;
  older: Message[];
  kept: Message[];
}

/** The index where the kept suffix starts: the last `keepLast` messages, moved back
 *  over tool results to the assistant message that called them. */
export function chooseKeepFrom(messages: readonly Message[], keepLast: number): number {
  let start = Math.max(0, messages.length - Math.max(1, keepLast));
  while (start > 0 && messages[start]?.role === 'tool') start -= 1;
  return start;
}

/** What to drop and keep, or null when nothing but earlier summaries would be dropped. */
export function chooseCompaction(messages: readonly Message[], keepLast: number): CompactionPlan | null {
  const keepFrom = chooseKeepFrom(messages, keepLast);
  const older = messages.slice(0, keepFrom);
  if (older.every(isSummaryMessage)) return null;
  return { keepFrom, older, kept: messages.slice(keepFrom) };
}

export type CompactionDecision =
  | { action: 'continue'; tokens: number; threshold: number }
  | { action: 'compact'; tokens: number; threshold: number; plan: CompactionPlan }
  | { action: 'nothing-to-drop'; tokens: number; threshold: number };

function compactionThreshold(window: number): number {
  return window * COMPACT_AT_FRACTION;
}

/** Whether the next request (of `tokens`) may go as is, at or above 70% of the window. */
export function decideCompaction(input: {
  messages: readonly Message[];
  tokens: number;
  window: number;
  keepLast?: number;
}): CompactionDecision {
  const threshold = compactionThreshold(input.window);
  const { tokens } = input;
  if (tokens < threshold) return { action: 'continue', tokens, threshold };
  const plan = chooseCompaction(input.messages, input.keepLast ?? KEEP_LAST_MESSAGES);
  return plan ? { action: 'compact', tokens, threshold, plan } : { action: 'nothing-to-drop', tokens, threshold };
}

// OpenAI: code context_length_exceeded, "This model's maximum context length is N
// tokens"; Anthropic: "prompt is too long: N tokens > M maximum", "input length and
// max_tokens exceed context limit"; vLLM and Ollama word it like OpenAI.
const OVERFLOW_PATTERN =
  /context_length_exceeded|maximum context length|context length exceeded|prompt is too long|exceeds? (the )?(model'?s? )?context (window|length|limit)|too many tokens/i;

/** Whether an LLM call failed because the request did not fit the model's window. The
 *  mesh passes the provider's message on as a provider_error. */
export function isContextOverflow(err: unknown): boolean {
  return err instanceof LegionError && err.code === 'provider_error' && OVERFLOW_PATTERN.test(err.message);
}
