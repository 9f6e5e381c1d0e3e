// POST /mesh/llm/chat through Fastify, the real SDKs and the fake providers: auth,
// validation, and both formats non-streaming and streaming, with tool round trips.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  LlmChatResponseSchema,
  LlmStreamEventSchema,
  type LlmChatResponse,
  type LlmStreamEvent,
} from '../../../../src/shared/wire/llm.js';
import { ANTHROPIC_KEY, OPENAI_KEY, sseEvents, startLlmHarness, type LlmHarness } from './harness.js';

let h: LlmHarness;
beforeAll(async () => {
  h = await startLlmHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.openai.calls.length = 0;
  h.anthropic.calls.length = 0;
  h.logs.length = 0;
});

async function streamOf(
  body: Record<string, unknown>,
): Promise<{ deltas: string[]; last: LlmStreamEvent; contentType: string; raw: string }> {
  const response = await h.chat({ ...body, stream: true });
  expect(response.statusCode).toBe(200);
  const events = (await sseEvents(response.payload)).map((e) => LlmStreamEventSchema.parse(e));
  const deltas = events.flatMap((e) => (e.type === 'delta' ? [e.text] : []));
  const last = events.at(-1);
  if (!last) throw new Error('empty stream');
  return { deltas, last, contentType: String(response.headers['content-type']), raw: response.payload };
}

function doneResponse(event: LlmStreamEvent): LlmChatResponse {
  if (event.type !== 'done') throw new Error(`expected done, got ${JSON.stringify(event)}`);
  return event.response;
}

describe('auth and validation', () => {
  it('refuses a call without an agent token, before any provider is called', async () => {
    const response = await h.chat({ messages: [{ role: 'user', content: 'hi' }] }, 'tester.not-the-secret');
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'unauthorized', message: 'missing or invalid agent token' } });
    expect(h.openai.calls).toHaveLength(0);
  });

  it('answers a bad body with 400 naming the field path', async () => {
    const response = await h.chat({ messages: [{ role: 'user' }] });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'invalid_request', path: 'messages.0.content' } });
    expect(response.json<{ error: { message: string } }>().error.message).toMatch(
      /^body: messages\.0\.content: expected a string/,
    );
    const unknownKey = await h.chat({ messages: [{ role: 'user', content: 'x' }], temprature: 1 });
    expect(unknownKey.json<{ error: { message: string } }>().error.message).toMatch(/unknown key "temprature"/);
    expect(h.openai.calls).toHaveLength(0);
  });
});

describe('OpenAI', () => {
  it("answers a plain call with the agent's default model, the key sent as a Bearer header only to the provider", async () => {
    const response = await h.chat({ messages: [{ role: 'user', content: 'hello mesh' }] });
    expect(response.statusCode).toBe(200);
    const answer = LlmChatResponseSchema.parse(response.json());
    expect(answer).toMatchObject({
      provider: 'openai',
      model: 'gpt-test',
      message: { role: 'assistant', content: 'echo: hello mesh', tool_calls: [] },
      finish_reason: 'stop',
    });
    expect(answer.usage.prompt_tokens).toBeGreaterThan(0);
    expect(h.openai.calls[0]?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(h.openai.calls[0]?.body).toMatchObject({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hello mesh' }],
    });
    expect(response.payload).not.toContain(OPENAI_KEY);
    expect(h.logs).toEqual([
      expect.objectContaining({
        agent: 'tester',
        event: 'llm_call',
        provider: 'openai',
        model: 'gpt-test',
        tokens: { prompt: 3, completion: 4 },
        latency_ms: expect.any(Number),
      }),
    ]);
    expect(JSON.stringify(h.logs)).not.toContain(OPENAI_KEY);
  });

  it('streams deltas as they come, then the whole answer, asking the provider for usage', async () => {
    const { deltas, last, contentType, raw } = await streamOf({
      model: 'openai/gpt-test',
      messages: [{ role: 'user', content: 'one two three four' }],
    });
    expect(contentType).toMatch(/^text\/event-stream/);
    expect(deltas.length).toBeGreaterThan(2);
    const response = doneResponse(last);
    expect(deltas.join('')).toBe('echo: one two three four');
    expect(response.message.content).toBe('echo: one two three four');
    expect(response.usage.completion_tokens).toBeGreaterThan(0);
    expect(h.openai.calls[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(raw).not.toContain(OPENAI_KEY);
  });

  it('runs a tool round trip: tool definitions out, tool calls back, calls and results sent in OpenAI format', async () => {
    const tools = [
      {
        name: 'lookup',
        description: 'finds a thing',
        parameters: { type: 'object', properties: { q: { type: 'string' } } },
      },
    ];
    const ask = { role: 'user', content: 'call lookup {"q":"legion"}' };
    const first = LlmChatResponseSchema.parse((await h.chat({ messages: [ask], tools })).json());
    expect(first.finish_reason).toBe('tool_calls');
    expect(first.message.tool_calls).toEqual([{ id: expect.any(String), name: 'lookup', arguments: '{"q":"legion"}' }]);
    expect(h.openai.calls[0]?.tools).toEqual(['lookup']);
    const call = first.message.tool_calls[0];
    if (!call) throw new Error('no tool call');

    const { deltas, last } = await streamOf({
      messages: [
        ask,
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'found it' },
      ],
      tools,
    });
    expect(deltas.join('')).toBe('tool lookup returned: found it');
    expect(doneResponse(last).finish_reason).toBe('stop');
    expect(h.openai.calls[1]?.body).toMatchObject({
      messages: [
        { role: 'user', content: 'call lookup {"q":"legion"}' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: call.id, type: 'function', function: { name: 'lookup', arguments: '{"q":"legion"}' } }],
        },
        { role: 'tool', tool_call_id: call.id, content: 'found it' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', description: 'finds a thing' } }],
    });
  });
});

describe('Anthropic', () => {
  it('answers a plain call with the system prompt in `system`, the default max_tokens and its own key', async () => {
    const response = await h.chat({
      model: 'anthropic/claude-test',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello claude' },
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(LlmChatResponseSchema.parse(response.json())).toMatchObject({
      provider: 'anthropic',
      model: 'claude-test',
      message: { content: 'echo: hello claude', tool_calls: [] },
      finish_reason: 'stop',
    });
    expect(h.anthropic.calls[0]?.body).toEqual({
      model: 'claude-test',
      max_tokens: 4096,
      system: 'be brief',
      messages: [{ role: 'user', content: 'hello claude' }],
    });
    // @anthropic-ai/sdk 1.x (API version 2026-10-21) sends the key as a Bearer token, not x-api-key.
    expect(h.anthropic.calls[0]?.headers.authorization).toBe(`Bearer ${ANTHROPIC_KEY}`);
    expect(response.payload).not.toContain(ANTHROPIC_KEY);
    expect(h.openai.calls).toHaveLength(0);
  });

  it('streams a tool round trip; tool results return as one user turn of tool_result blocks', async () => {
    h.anthropic.script({
      text: 'checking both',
      tool_calls: [
        { name: 'lookup', arguments: { q: 'a' } },
        { name: 'fetch', arguments: { url: 'u' } },
      ],
    });
    const tools = [
      { name: 'lookup', description: 'finds', parameters: { type: 'object' } },
      { name: 'fetch', description: 'downloads', parameters: { type: 'object' } },
    ];
    const ask = { role: 'user', content: 'look up a and fetch u' };
    const first = await streamOf({ model: 'anthropic/claude-test', messages: [ask], tools });
    expect(first.deltas).toEqual(['checking ', 'both']);
    const answer = doneResponse(first.last);
    expect(answer.finish_reason).toBe('tool_calls');
    expect(answer.message.tool_calls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ['lookup', { q: 'a' }],
      ['fetch', { url: 'u' }],
    ]);
    const [lookup, fetchCall] = answer.message.tool_calls;
    if (!lookup || !fetchCall) throw new Error('expected two tool calls');

    const second = await streamOf({
      model: 'anthropic/claude-test',
      messages: [
        ask,
        answer.message,
        { role: 'tool', tool_call_id: lookup.id, content: 'found a' },
        { role: 'tool', tool_call_id: fetchCall.id, content: 'timed out', is_error: true },
      ],
      tools,
    });
    expect(second.deltas.join('')).toBe('tool fetch returned: timed out');
    expect(h.anthropic.calls[1]?.body).toMatchObject({
      messages: [
        { role: 'user', content: 'look up a and fetch u' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'checking both' },
            { type: 'tool_use', id: lookup.id, name: 'lookup', input: { q: 'a' } },
            { type: 'tool_use', id: fetchCall.id, name: 'fetch', input: { url: 'u' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: lookup.id, content: 'found a' },
            { type: 'tool_result', tool_use_id: fetchCall.id, content: 'timed out', is_error: true },
          ],
        },
      ],
      tools: [
        { name: 'lookup', input_schema: { type: 'object' } },
        { name: 'fetch', input_schema: { type: 'object' } },
      ],
    });
  });
});
