import type { Message, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it } from 'vitest';
import {
  AnthropicStreamAccumulator,
  fromAnthropicMessage,
  mapAnthropicStopReason,
  toAnthropicParams,
} from '../../../../src/mesh/llm/anthropic.js';
import { LlmChatRequestSchema } from '../../../../src/shared/wire/llm.js';

describe('toAnthropicParams', () => {
  it('moves system messages to `system`, turns tool calls into tool_use and merges a run of tool results', () => {
    const request = LlmChatRequestSchema.parse({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'system', content: 'be kind' },
        { role: 'user', content: 'look both up' },
        {
          role: 'assistant',
          content: 'checking',
          tool_calls: [
            { id: 't1', name: 'lookup', arguments: '{"q":"a"}' },
            { id: 't2', name: 'fetch', arguments: 'not json' },
          ],
        },
        { role: 'tool', tool_call_id: 't1', content: 'found a' },
        { role: 'tool', tool_call_id: 't2', content: 'timed out', is_error: true },
        { role: 'user', content: 'thanks' },
      ],
      tools: [{ name: 'lookup', description: 'finds', parameters: { properties: { q: { type: 'string' } } } }],
      temperature: 1.5,
    });
    expect(toAnthropicParams(request, 'claude-test')).toEqual({
      model: 'claude-test',
      max_tokens: 4096,
      system: 'be brief\n\nbe kind',
      messages: [
        { role: 'user', content: 'look both up' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'checking' },
            { type: 'tool_use', id: 't1', name: 'lookup', input: { q: 'a' } },
            { type: 'tool_use', id: 't2', name: 'fetch', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: 'found a' },
            { type: 'tool_result', tool_use_id: 't2', content: 'timed out', is_error: true },
          ],
        },
        { role: 'user', content: 'thanks' },
      ],
      tools: [
        {
          name: 'lookup',
          description: 'finds',
          input_schema: { type: 'object', properties: { q: { type: 'string' } } },
        },
      ],
    });
  });

  it('keeps an explicit max_tokens, sends no empty text block and flushes trailing tool results', () => {
    const request = LlmChatRequestSchema.parse({
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: '', tool_calls: [{ id: 't1', name: 'run', arguments: '{}' }] },
        { role: 'tool', tool_call_id: 't1', content: 'ok' },
      ],
      max_tokens: 50,
    });
    const params = toAnthropicParams(request, 'c');
    expect(params.max_tokens).toBe(50);
    expect(params.system).toBeUndefined();
    expect(params.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'run', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] },
    ]);
  });
});

describe('fromAnthropicMessage', () => {
  it('joins text blocks, turns tool_use input into JSON arguments and counts cached prompt tokens', () => {
    const message = {
      id: 'msg',
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      content: [
        { type: 'text', text: 'one ', citations: null },
        { type: 'tool_use', id: 't1', name: 'lookup', input: { q: 'x' } },
        { type: 'text', text: 'two', citations: null },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 5, cache_creation_input_tokens: null },
    } as unknown as Message;
    expect(fromAnthropicMessage(message)).toEqual({
      message: {
        role: 'assistant',
        content: 'one two',
        tool_calls: [{ id: 't1', name: 'lookup', arguments: '{"q":"x"}' }],
      },
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 15, completion_tokens: 4 },
    });
  });

  it('maps every stop reason onto the four the contract knows', () => {
    expect(
      ['end_turn', 'stop_sequence', 'tool_use', 'max_tokens', 'refusal', 'pause_turn', null].map(
        mapAnthropicStopReason,
      ),
    ).toEqual(['stop', 'stop', 'tool_calls', 'length', 'other', 'other', 'other']);
  });
});

describe('AnthropicStreamAccumulator', () => {
  it('returns text deltas, joins input_json_delta pieces and takes usage from message_start and message_delta', () => {
    const events = [
      { type: 'message_start', message: { usage: { input_tokens: 20, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'let me ' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'look' } },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 't1', name: 'lookup', input: {} },
      },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"x"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 't2', name: 'now', input: {} } },
      { type: 'content_block_stop', index: 2 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } },
      { type: 'message_stop' },
    ] as unknown as RawMessageStreamEvent[];
    const accumulator = new AnthropicStreamAccumulator();
    const deltas = events.map((e) => accumulator.push(e)).filter((d) => d !== '');
    expect(deltas).toEqual(['let me ', 'look']);
    expect(accumulator.result()).toEqual({
      message: {
        role: 'assistant',
        content: 'let me look',
        tool_calls: [
          { id: 't1', name: 'lookup', arguments: '{"q":"x"}' },
          { id: 't2', name: 'now', arguments: '{}' },
        ],
      },
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 20, completion_tokens: 9 },
    });
  });
});
