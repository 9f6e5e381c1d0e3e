// How POST /mesh/llm/chat fails: provider errors normalized, retries, unreachable and
// unconfigured providers, configuration overrides, in-band stream errors and a client
// that goes away mid-stream.
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentTokens, requireAgentToken } from '../../../../src/mesh/http/agent-auth.js';
import { installErrorHandler } from '../../../../src/mesh/http/errors.js';
import type { LlmProxy } from '../../../../src/mesh/llm/proxy.js';
import { llmRoutes } from '../../../../src/mesh/llm/routes.js';
import { LegionError } from '../../../../src/shared/errors.js';
import { readSse } from '../../../../src/shared/sse.js';
import { LlmChatResponseSchema, LlmStreamEventSchema } from '../../../../src/shared/wire/llm.js';
import { startFakeProvider, type FakeProvider } from '../../../fakes/fake-provider.js';
import { openTestMeter } from '../../../helpers/cost-meter.js';
import {
  ANTHROPIC_KEY,
  closedPort,
  OPENAI_KEY,
  sseEvents,
  startLlmHarness,
  type HarnessOptions,
  type LlmHarness,
} from './harness.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const resource of open.splice(0).reverse()) await resource.close();
});

async function harness(options: HarnessOptions = {}): Promise<LlmHarness> {
  const h = await startLlmHarness(options);
  open.push(h);
  return h;
}

const hello = { messages: [{ role: 'user', content: 'hello' }] };

describe('provider errors', () => {
  it('turns a provider 401 into provider_error with provider, status and message, never echoing the key', async () => {
    const wrongOpenAi = 'sk-wrong-openai-key-1234';
    const wrongAnthropic = 'sk-wrong-anthropic-key-5678';
    const h = await harness({
      dotEnv: { LEGION_CRED_OPENAI_API_KEY: wrongOpenAi, LEGION_CRED_ANTHROPIC_API_KEY: wrongAnthropic },
    });
    const openai = await h.chat(hello);
    expect(openai.statusCode).toBe(502);
    expect(openai.json()).toEqual({
      error: {
        code: 'provider_error',
        provider: 'openai',
        status: 401,
        message: expect.stringMatching(/^openai returned 401: Incorrect API key provided/),
      },
    });
    expect(openai.payload).not.toContain(wrongOpenAi);
    // A failure before the first token is an ordinary HTTP error, not an event stream.
    const anthropic = await h.chat({ ...hello, model: 'anthropic/claude-test', stream: true });
    expect(anthropic.statusCode).toBe(502);
    expect(anthropic.headers['content-type']).toMatch(/^application\/json/);
    expect(anthropic.json()).toEqual({
      error: {
        code: 'provider_error',
        provider: 'anthropic',
        status: 401,
        message: 'anthropic returned 401: invalid x-api-key',
      },
    });
    expect(h.anthropic.calls).toHaveLength(1);
    expect(h.logs.map((line) => [line.event, line.provider, line.error])).toEqual([
      ['llm_call', 'openai', expect.objectContaining({ code: 'provider_error', status: 401 })],
      ['llm_call', 'anthropic', expect.objectContaining({ code: 'provider_error', status: 401 })],
    ]);
  });

  it('retries a 429 and succeeds', async () => {
    const h = await harness();
    h.openai.script({ error: { status: 429, message: 'Rate limit reached for requests' } });
    const response = await h.chat(hello);
    expect(response.statusCode).toBe(200);
    expect(LlmChatResponseSchema.parse(response.json()).message.content).toBe('echo: hello');
    expect(h.openai.calls).toHaveLength(2);
  });

  it('retries an overloaded Anthropic stream before its first token and streams the retry', async () => {
    const h = await harness();
    h.anthropic.script({ error: { status: 529, message: 'Overloaded' } });
    const response = await h.chat({ ...hello, model: 'anthropic/claude-test', stream: true });
    const events = (await sseEvents(response.payload)).map((e) => LlmStreamEventSchema.parse(e));
    expect(events.at(-1)).toMatchObject({ type: 'done', response: { message: { content: 'echo: hello' } } });
    expect(h.anthropic.calls).toHaveLength(2);
  });

  it("gives up after the retries with the provider's last error", async () => {
    const h = await harness();
    const busy = { error: { status: 503, message: 'The server is overloaded' } };
    h.openai.script(busy, busy, busy);
    const response = await h.chat(hello);
    expect(response.json()).toMatchObject({
      error: { code: 'provider_error', status: 503, message: 'openai returned 503: The server is overloaded' },
    });
    expect(h.openai.calls).toHaveLength(3);
  });
});

describe('provider configuration', () => {
  it('reports an unreachable base URL as provider_unreachable, naming the URL', async () => {
    const deadUrl = `http://127.0.0.1:${await closedPort()}/v1`;
    const h = await harness({ providers: () => [`dead: { kind: openai, base_url: "${deadUrl}" }`] });
    const response = await h.chat({ ...hello, model: 'dead/some-model' });
    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ error: { code: 'provider_unreachable', provider: 'dead' } });
    expect(response.json<{ error: { message: string } }>().error.message).toMatch(
      new RegExp(`^cannot reach dead at ${deadUrl}: .*ECONNREFUSED`),
    );
  });

  it('honours LEGION_OPENAI_BASE_URL from the environment', async () => {
    const h = await harness({
      openaiBaseUrlInConfig: false,
      processEnv: ({ openai }) => ({ LEGION_OPENAI_BASE_URL: openai.openaiBaseUrl }),
    });
    const response = await h.chat(hello);
    expect(response.statusCode).toBe(200);
    expect(h.openai.calls[0]?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it('lets a keyless local OpenAI-compatible server run, sending a placeholder key', async () => {
    const local: FakeProvider = await startFakeProvider();
    open.push(local);
    const h = await harness({ providers: () => [`local: { kind: openai, base_url: "${local.openaiBaseUrl}" }`] });
    const response = await h.chat({ ...hello, model: 'local/llama3' });
    expect(response.json()).toMatchObject({ provider: 'local', model: 'llama3', message: { content: 'echo: hello' } });
    expect(local.calls[0]?.headers.authorization).toBe('Bearer legion-no-key');
  });

  it('refuses a provider without a key, naming the variable to set', async () => {
    const h = await harness({ dotEnv: { LEGION_CRED_OPENAI_API_KEY: OPENAI_KEY } });
    const response = await h.chat({ ...hello, model: 'anthropic/claude-test' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      error: {
        code: 'no_api_key',
        provider: 'anthropic',
        message: 'no API key for provider anthropic: set LEGION_CRED_ANTHROPIC_API_KEY in .env or the environment',
      },
    });
    expect(h.anthropic.calls).toHaveLength(0);
    expect(response.payload).not.toContain(ANTHROPIC_KEY);
  });

  it('refuses a model naming an unknown provider or none', async () => {
    const h = await harness();
    const unknown = await h.chat({ ...hello, model: 'mistral/large' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ error: { code: 'unknown_provider', path: 'model' } });
    const bare = await h.chat({ ...hello, model: 'gpt-4o' });
    expect(bare.json()).toMatchObject({ error: { code: 'invalid_request', path: 'model' } });
  });
});

describe('streams', () => {
  it('reports an error after the first delta in-band, as the last event', async () => {
    const failingProxy: LlmProxy = {
      async chat(_request, options) {
        options.onDelta?.('partial ');
        throw new LegionError('provider_error', 'openai failed mid-stream: Overloaded', { provider: 'openai' });
      },
    };
    const tokens = new AgentTokens();
    const costs = openTestMeter();
    open.push({ close: async () => costs.close() });
    const app = Fastify();
    open.push(app);
    installErrorHandler(app);
    await app.register(async (scope) => {
      requireAgentToken(scope, tokens);
      await scope.register(llmRoutes, {
        proxy: failingProxy,
        metering: costs.meter,
        defaultModelFor: () => 'openai/gpt-test',
        settingsFor: () => ({}),
      });
    });
    const response = await app.inject({
      method: 'POST',
      url: '/mesh/llm/chat',
      headers: { authorization: `Bearer ${tokens.mint('tester')}` },
      payload: { ...hello, stream: true },
    });
    expect(response.statusCode).toBe(200);
    expect(await sseEvents(response.payload)).toEqual([
      { type: 'delta', text: 'partial ' },
      {
        type: 'error',
        error: { code: 'provider_error', message: 'openai failed mid-stream: Overloaded', provider: 'openai' },
      },
    ]);
  });

  it('cancels the provider call when the client goes away mid-stream', async () => {
    const h = await harness({ fake: { chunkDelayMs: 50 } });
    h.openai.script({ text: Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ') });
    const url = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const client = new AbortController();
    const response = await fetch(`${url}/mesh/llm/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...hello, stream: true }),
      signal: client.signal,
    });
    if (!response.body) throw new Error('no body');
    for await (const event of readSse(response.body)) {
      expect(LlmStreamEventSchema.parse(event).type).toBe('delta');
      break;
    }
    client.abort();
    // A full answer would take 3 s; the proxy logs the cancelled call long before.
    await expect.poll(() => h.logs.at(-1)?.error, { timeout: 2000 }).toMatchObject({ code: 'aborted' });
    expect(h.logs).toHaveLength(1);
  });
});
