// Token accounting: the provider's count for the covered prefix plus a chars/4 estimate
// of what came after, and how a turn hands its (compacted) history to the session.
import { describe, expect, it } from 'vitest';
import { TurnConversation, type ConversationSession } from '../../src/agent/context/conversation.js';
import {
  conversationTokens,
  estimateMessageTokens,
  estimateTokens,
  markAfterCall,
} from '../../src/agent/context/tokens.js';
import type { Message } from '../../src/shared/wire/llm.js';

const user = (content: string): Message => ({ role: 'user', content });
const assistant = (content: string): Message => ({ role: 'assistant', content });

describe('estimates', () => {
  it('counts 4 characters a token, rounding up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
  });

  it('counts tool call names and arguments of an assistant message', () => {
    const call: Message = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', name: 'exec', arguments: '{"command":"ls"}' }],
    };
    expect(estimateMessageTokens(call)).toBe(Math.ceil(('exec'.length + '{"command":"ls"}'.length) / 4));
    expect(estimateMessageTokens({ role: 'tool', tool_call_id: 'c1', content: 'x'.repeat(40) })).toBe(10);
  });
});

describe('conversationTokens', () => {
  const messages = [user('a'.repeat(400)), assistant('b'.repeat(400)), user('c'.repeat(40))];

  it('estimates everything, the fixed part included, without a provider count', () => {
    expect(conversationTokens(messages, null, 500)).toBe(500 + 100 + 100 + 10);
  });

  it('takes the provider count for the covered prefix and estimates only what came after', () => {
    const mark = markAfterCall({ prompt_tokens: 300, completion_tokens: 120 }, 2);
    expect(mark).toEqual({ tokens: 420, messageCount: 2 });
    expect(conversationTokens(messages, mark, 500)).toBe(420 + 10);
  });

  it('falls back to estimating when the count covers more messages than there are', () => {
    expect(conversationTokens(messages.slice(0, 1), { tokens: 420, messageCount: 2 }, 500)).toBe(500 + 100);
  });

  it('ignores a call that reported no prompt tokens', () => {
    expect(markAfterCall({ prompt_tokens: 0, completion_tokens: 12 }, 2)).toBeNull();
  });
});

describe('TurnConversation', () => {
  it('commits messages and the provider count only at commit()', () => {
    const session: ConversationSession = { messages: [user('one'), assistant('two')], usageMark: null };
    const conversation = new TurnConversation(session, user('three'));
    conversation.push(assistant('four'));
    conversation.recordUsage({ prompt_tokens: 50, completion_tokens: 5 });
    expect(session.messages).toHaveLength(2);
    conversation.commit();
    expect(session.messages.map((m) => m.content)).toEqual(['one', 'two', 'three', 'four']);
    expect(session.usageMark).toEqual({ tokens: 55, messageCount: 4 });
  });

  it('hands the session the compacted history of finished turns at once', () => {
    const finished = [user('u1'), assistant('a1'), user('u2'), assistant('a2'), user('u3'), assistant('a3')];
    const session: ConversationSession = { messages: finished, usageMark: { tokens: 900, messageCount: 6 } };
    const conversation = new TurnConversation(session, user('u4'));
    const summary = user('[Summary of the earlier conversation: ...]');
    // Kept: a2 u3 a3 (finished) and u4 (this turn, not finished).
    conversation.applyCompaction({ messages: [summary, ...finished.slice(3), user('u4')], keepFrom: 3 });
    expect(session.messages).toEqual([summary, assistant('a2'), user('u3'), assistant('a3')]);
    expect(session.usageMark).toBeNull();
    expect(conversation.tokens(0)).toBeGreaterThan(0);

    // A mid-turn compaction that drops all finished turns leaves only the summary.
    conversation.push(assistant('a4'));
    const second = user('[Summary of the earlier conversation: again]');
    conversation.applyCompaction({ messages: [second, assistant('a4')], keepFrom: 5 });
    expect(session.messages).toEqual([second]);
  });
});
