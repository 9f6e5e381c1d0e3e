import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import {
  fromOpenAiCompletion,
  mapOpenAiFinishReason,
  OpenAiStreamAccumulator,
  toOpenAiParams,
} from '../../../../src/mesh/llm/openai.js';
import { LlmChatRequestSchema } from '../../../../src/shared/wire/llm.js';

const request = LlmChatRequestSchema.parse({
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'look it up' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', name: 'lookup', arguments: '{"q":"x"}' }] },
    { role: 'tool', tool_call_id: 'c1', content: 'found', is_error: false },
    { role: 'assistant', content: 'done' },
  ],
  tools: [
    {
      name: 'lookup',
      description: 'finds things',
      parameters: { type: 'object', properties: { q: { type: 'string' } } },
    },
  ],
  max_tokens: 300,
  temperature: 0.5,
});

describe('toOpenAiParams', () => {
  it('maps messages, assistant tool calls, tool results and tools to the chat-completions format', () => {
    const params = toOpenAiParams(request, 'gpt-test', 'max_completion_tokens');
    expect(params).toEqual({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'look it up' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'found' },
        { role: 'assistant', content: 'done' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'finds things',
            parameters: { type: 'object', properties: { q: { type: 'string' } } },
          },
        },
      ],
      max_completion_tokens: 300,
      temperature: 0.5,
    });
  });

  it('puts the token limit in the field the server understands and leaves unset options out', () => {
    const minimal = LlmChatRequestSchema.parse({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });
    expect(toOpenAiParams(minimal, 'llama3', 'max_tokens')).toEqual({
      model: 'llama3',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 10,
    });
  });

  it('sends empty content for an assistant turn with neither text nor tool calls', () => {
    const empty = LlmChatRequestSchema.parse({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant' }] });
    expect(toOpenAiParams(empty, 'm', 'max_tokens').messages[1]).toEqual({ role: 'assistant', content: '' });
  });
});

describe('fromOpenAiCompletion', () => {
  it('reads text, function tool calls, finish reason and usage', () => {
    const completion: ChatCompletion = {
      id: 'x',
      object: 'chat.completion',
      created: 0,
      model: 'gpt-test',
      choices: [
        {
          index: 0,
          logprobs: null,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [{ id: 'c9', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }],
          },
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    };
    expect(fromOpenAiCompletion(completion)).toEqual({
      message: { role: 'assistant', content: '', tool_calls: [{ id: 'c9', name: 'lookup', arguments: '{"q":1}' }] },
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 12, completion_tokens: 5 },
    });
  });

  it('maps every finish reason onto the four the contract knows', () => {
    expect(
      ['stop', 'tool_calls', 'function_call', 'length', 'content_filter', null].map(mapOpenAiFinishReason),
    ).toEqual(['stop', 'tool_calls', 'tool_calls', 'length', 'other', 'other']);
  });
});

describe('OpenAiStreamAccumulator', () => {
  const chunk = (
    delta: ChatCompletionChunk.Choice.Delta,
    finish: ChatCompletionChunk.Choice['finish_reason'] = null,
  ): ChatCompletionChunk => ({
    id: 'x',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  it('returns each text delta and merges tool calls streamed by index', () => {
    const accumulator = new OpenAiStreamAccumulator();
    const deltas = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'let me ' }),
      chunk({ content: 'check' }),
      chunk({ tool_calls: [{ index: 1, id: 'c2', type: 'function', function: { name: 'fetch', arguments: '' } }] }),
      chunk({
        tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ].map((c) => accumulator.push(c));
    accumulator.push({
      id: 'x',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'm',
      choices: [],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
    expect(deltas.filter((d) => d !== '')).toEqual(['let me ', 'check']);
    expect(accumulator.result()).toEqual({
      message: {
        role: 'assistant',
        content: 'let me check',
        tool_calls: [
          { id: 'c1', name: 'lookup', arguments: '{"q":"x"}' },
          { id: 'c2', name: 'fetch', arguments: '{}' },
        ],
      },
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 7, completion_tokens: 3 },
    });
  });

  it('gives a tool call streamed without an id one, so its result can be paired', () => {
    const accumulator = new OpenAiStreamAccumulator();
    accumulator.push(
      chunk({ tool_calls: [{ index: 0, function: { name: 'lookup', arguments: '{}' } }] }, 'tool_calls'),
    );
    expect(accumulator.result().message.tool_calls).toEqual([{ id: 'call_0', name: 'lookup', arguments: '{}' }]);
  });
});
