// The fake provider must be good enough for the real SDKs, including their stream
// accumulators, since every other LLM test trusts it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeEmbedding, FAKE_EMBEDDING_DIMENSIONS } from '../../fakes/fake-embeddings.js';
import { startFakeProvider, type FakeProvider } from '../../fakes/fake-provider.js';

let fake: FakeProvider | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function openai(provider: FakeProvider, apiKey = 'sk-test'): OpenAI {
  return new OpenAI({ apiKey, baseURL: provider.openaiBaseUrl, maxRetries: 0 });
}

function anthropic(provider: FakeProvider, apiKey = 'sk-ant-test'): Anthropic {
  return new Anthropic({ apiKey, baseURL: provider.anthropicBaseUrl, maxRetries: 0 });
}

describe('fake provider, OpenAI format', () => {
  it('answers a plain request with an echo and a usage estimate', async () => {
    fake = await startFakeProvider();
    const completion = await openai(fake).chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hello there' }],
    });
    expect(completion.choices[0]?.message.content).toBe('echo: hello there');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens).toBe(3);
    expect(fake.calls[0]?.messages).toEqual([{ role: 'user', content: 'hello there' }]);
  });

  it('streams text in several chunks, then a usage chunk when asked', async () => {
    fake = await startFakeProvider();
    const stream = await openai(fake).chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta.content;
      if (text) deltas.push(text);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe('echo: one two three');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('streams a tool call that the SDK stream helper assembles', async () => {
    fake = await startFakeProvider();
    const stream = openai(fake).chat.completions.stream({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'call lookup {"q":"legion"}' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' ? [call.function.name, call.function.arguments] : null).toEqual([
      'lookup',
      '{"q":"legion"}',
    ]);
    expect(fake.calls[0]?.tools).toEqual(['lookup']);
  });

  it('answers a tool result with what the tool returned', async () => {
    fake = await startFakeProvider();
    const completion = await openai(fake).chat.completions.create({
      model: 'gpt-test',
      messages: [
        { role: 'user', content: 'call lookup {}' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '42' },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('tool lookup returned: 42');
  });

  it('rejects another key with the real 401 body', async () => {
    fake = await startFakeProvider({ apiKey: 'sk-right' });
    const failure = await openai(fake, 'sk-wrong-key-1234')
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(failure instanceof OpenAI.APIError ? failure.code : null).toBe('invalid_api_key');
    expect(fake.calls[0]?.headers.authorization).toBe('Bearer sk-wrong-key-1234');
  });

  it('uses scripted steps first, in order, then the responder', async () => {
    fake = await startFakeProvider({ respond: () => ({ text: 'from responder' }) });
    fake.script({ text: 'first' }, { error: { status: 503, message: 'busy' } });
    const client = openai(fake);
    const ask = () => client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect((await ask()).choices[0]?.message.content).toBe('first');
    const failure = await ask().catch((err: unknown) => err);
    expect(failure instanceof OpenAI.APIError ? [failure.status, failure.message] : null).toEqual([503, '503 busy']);
    expect((await ask()).choices[0]?.message.content).toBe('from responder');
  });
});

describe('fake provider, OpenAI embeddings', () => {
  it('answers the SDK in both encodings with deterministic unit vectors, recorded apart from chat calls', async () => {
    fake = await startFakeProvider();
    const client = openai(fake);
    const input = ['the cat sat', 'The CAT sat!', 'a green sofa'];
    // Without encoding_format the SDK asks for base64 and decodes float32 itself.
    const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input });
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float' });
    expect(decoded.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(floats.data.map((d) => d.embedding)).toEqual(input.map(fakeEmbedding));
    decoded.data.forEach((d, i) =>
      d.embedding.forEach((value, j) => expect(value).toBeCloseTo(floats.data[i]?.embedding[j] ?? NaN, 6)),
    );
    const [cat, catAgain, sofa] = input.map(fakeEmbedding);
    expect(cat).toHaveLength(FAKE_EMBEDDING_DIMENSIONS);
    expect(Math.hypot(...(cat ?? []))).toBeCloseTo(1, 10);
    // Case and punctuation do not change the words; other words give another vector.
    expect(catAgain).toEqual(cat);
    expect(sofa).not.toEqual(cat);
    expect(floats.usage).toEqual({ prompt_tokens: 3 + 3 + 3, total_tokens: 9 });
    expect(fake.embeddings.map((c) => c.input)).toEqual([input, input]);
    expect(fake.calls).toEqual([]);
  });

  it('refuses an empty input and a wrong key as OpenAI does, and fails on demand', async () => {
    fake = await startFakeProvider({ apiKey: 'sk-right' });
    await expect(openai(fake, 'sk-right').embeddings.create({ model: 'm', input: [''] })).rejects.toMatchObject({
      status: 400,
    });
    await expect(openai(fake, 'sk-wrong').embeddings.create({ model: 'm', input: ['x'] })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
    fake.failEmbeddings({ status: 400, message: 'down for the test' });
    await expect(openai(fake, 'sk-right').embeddings.create({ model: 'm', input: ['x'] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('down for the test'),
    });
    fake.failEmbeddings(null);
    expect((await openai(fake, 'sk-right').embeddings.create({ model: 'm', input: ['x'] })).data).toHaveLength(1);
  });
});

describe('fake provider, Anthropic format', () => {
  it('answers a plain request and normalizes the system prompt', async () => {
    fake = await startFakeProvider();
    const message = await anthropic(fake).messages.create({
      model: 'claude-test',
      max_tokens: 100,
      system: 'be brief',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'echo: hi' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(fake.calls[0]?.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('streams text and a tool call through the SDK message stream', async () => {
    fake = await startFakeProvider();
    fake.script({ text: 'let me look', tool_calls: [{ name: 'lookup', arguments: { q: 'legion' } }] });
    const stream = anthropic(fake).messages.stream({
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'find legion' }],
      tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
    });
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const final = await stream.finalMessage();
    expect(deltas).toEqual(['let ', 'me ', 'look']);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content[1]).toMatchObject({ type: 'tool_use', name: 'lookup', input: { q: 'legion' } });
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('reads tool_result blocks as tool messages and rejects unpaired ones as the API does', async () => {
    fake = await startFakeProvider();
    const client = anthropic(fake);
    const message = await client.messages.create({
      model: 'claude-test',
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'call lookup {}' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'nothing', is_error: true }] },
      ],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'tool lookup returned: nothing' }]);
    expect(fake.calls[0]?.messages[2]).toEqual({
      role: 'tool',
      tool_call_id: 't1',
      content: 'nothing',
      is_error: true,
    });
    const failure = await client.messages
      .create({
        model: 'c',
        max_tokens: 10,
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'zz', content: 'x' }] }],
      })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('rejects another key with the real 401 body', async () => {
    fake = await startFakeProvider({ apiKey: 'sk-ant-right' });
    const failure = await anthropic(fake, 'sk-ant-wrong')
      .messages.create({ model: 'c', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(failure instanceof Anthropic.APIError ? failure.type : null).toBe('authentication_error');
  });
});

describe('fake provider as a process', () => {
  it('prints its url as one JSON line and serves the directive responder', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/fakes/fake-provider-main.ts'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const { url } = JSON.parse(line) as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const client = new OpenAI({ apiKey: 'k', baseURL: `${url}/v1`, maxRetries: 0 });
      const completion = await client.chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'ping' }],
      });
      expect(completion.choices[0]?.message.content).toBe('echo: ping');
      const calls = (await (await fetch(`${url}/fake/calls`)).json()) as unknown[];
      expect(calls).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
