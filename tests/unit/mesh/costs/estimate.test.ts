// The worst case reserved before a call: prompt text at 4 characters a token plus a
// per-message allowance, the tools' JSON, and max_tokens (4096 when unset).
import { describe, expect, it } from 'vitest';
import { DEFAULT_COMPLETION_RESERVE, estimatePromptTokens, worstCase } from '../../../../src/mesh/costs/estimate.js';
import type { Message, ToolDef } from '../../../../src/shared/wire/llm.js';

describe('worstCase', () => {
  const messages: Message[] = [
    { role: 'system', content: 'a'.repeat(40) },
    { role: 'user', content: 'b'.repeat(9) },
  ];

  it('estimates the prompt from its text', () => {
    // 40/4 = 10 and ceil(9/4) = 3, plus 4 per message.
    expect(estimatePromptTokens({ messages })).toBe(10 + 4 + 3 + 4);
  });

  it('counts tool calls, tool results and the tools offered', () => {
    const tools: ToolDef[] = [{ name: 'exec', description: 'run a command', parameters: { type: 'object' } }];
    const withTools = estimatePromptTokens({ messages, tools });
    expect(withTools - estimatePromptTokens({ messages })).toBe(Math.ceil(JSON.stringify(tools).length / 4));
    const conversation: Message[] = [
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', name: 'exec', arguments: '{"command":"ls"}' }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'x'.repeat(100) },
    ];
    expect(estimatePromptTokens({ messages: conversation })).toBe(
      Math.ceil((6 + 4 + 16) / 4) + 4 + Math.ceil(106 / 4) + 4,
    );
  });

  it('reserves max_tokens for the answer, or the default when the request sets none', () => {
    expect(worstCase({ messages, max_tokens: 256 }).completion_tokens).toBe(256);
    expect(worstCase({ messages }).completion_tokens).toBe(DEFAULT_COMPLETION_RESERVE);
    expect(DEFAULT_COMPLETION_RESERVE).toBe(4096);
  });
});
