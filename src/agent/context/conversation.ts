// A chat turn's working copy of its session's conversation, with the token accounting
// that decides compaction. Invariants: the session is written only by commit() (the
// turn completed) and by applyCompaction() (the facts are on disk, and the summary
// stands for the dropped messages, so the session takes the compacted history at once
// and a failed turn does not extract the same facts again); what the session receives
// is always a complete history: the messages of finished turns, optionally led by one
// summary message.
import type { Message, Usage } from '../../shared/wire/llm.js';
import { conversationTokens, markAfterCall, type UsageMark } from './tokens.js';

export interface ConversationSession {
  messages: Message[];
  /** The provider's count for the session's messages; null until a call reported one. */
  usageMark: UsageMark | null;
}

export class TurnConversation {
  private current: Message[];
  /** How many leading messages of `current` are already in the session. */
  private committed: number;
  private mark: UsageMark | null;

  constructor(
    private readonly session: ConversationSession,
    userMessage: Message,
  ) {
    this.current = [...session.messages, userMessage];
    this.committed = session.messages.length;
    this.mark = session.usageMark;
  }

  get messages(): readonly Message[] {
    return this.current;
  }

  push(message: Message): void {
    this.current.push(message);
  }

  /** After a call whose answer was just pushed: the provider's count becomes the base. */
  recordUsage(usage: Usage): void {
    this.mark = markAfterCall(usage, this.current.length);
  }

  /** Tokens the next request would take; `fixedTokens` estimates the system prompt and tools. */
  tokens(fixedTokens: number): number {
    return conversationTokens(this.current, this.mark, fixedTokens);
  }

  /** Replaces the messages before `keepFrom` by the compacted list's leading summary. */
  applyCompaction(compacted: { messages: Message[]; keepFrom: number }): void {
    this.committed = 1 + Math.max(0, this.committed - compacted.keepFrom);
    this.current = [...compacted.messages];
    this.mark = null;
    this.session.messages = this.current.slice(0, this.committed);
    this.session.usageMark = null;
  }

  commit(): void {
    this.session.messages = this.current;
    this.session.usageMark = this.mark;
  }
}
