// The provider check of `legion setup`: one real call to the fake provider over HTTP,
// in both formats, and what it says when the key is wrong, the model unknown, the
// server down or the base URL wrong.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { checkProvider } from '../../src/cli/setup/provider-check.js';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort } from '../helpers/project.js';

describe('the provider check', () => {
  let fake: FakeProvider;
  let silent: Server;
  let silentPort: number;

  beforeAll(async () => {
    fake = await startFakeProvider({
      apiKey: 'sk-right',
      models: ['gpt-4o-mini', 'llama3.1:latest', 'claude-haiku-4-5'],
    });
    // Accepts connections and never answers.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    silentPort = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(async () => {
    await fake?.close();
    silent?.close();
  });

  it('passes for a listed model (an Ollama tag counts) and a model Anthropic knows', async () => {
    expect(
      await checkProvider({
        name: 'local',
        kind: 'openai',
        baseUrl: fake.openaiBaseUrl,
        apiKey: 'sk-right',
        model: 'gpt-4o-mini',
      }),
    ).toEqual({
      ok: true,
      detail: 'local answered and offers gpt-4o-mini',
    });
    expect(
      (
        await checkProvider({
          name: 'ollama',
          kind: 'openai',
          baseUrl: fake.openaiBaseUrl,
          apiKey: 'sk-right',
          model: 'llama3.1',
        })
      ).ok,
    ).toBe(true);
    expect(
      await checkProvider({
        name: 'anthropic',
        kind: 'anthropic',
        baseUrl: fake.anthropicBaseUrl,
        apiKey: 'sk-right',
        model: 'claude-haiku-4-5',
      }),
    ).toEqual({
      ok: true,
      detail: 'anthropic knows claude-haiku-4-5',
    });
  });

  it('says the key was rejected, without repeating it', async () => {
    const openai = await checkProvider({
      name: 'openai',
      kind: 'openai',
      baseUrl: fake.openaiBaseUrl,
      apiKey: 'sk-wrong-key',
      model: 'gpt-4o-mini',
    });
    expect(openai).toMatchObject({ ok: false, failure: 'key_rejected' });
    expect(!openai.ok && openai.message).toMatch(
      /^openai at http:\/\/127\.0\.0\.1:\d+\/v1\/models answered 401, the API key was rejected: Incorrect API key provided/,
    );
    expect(!openai.ok && openai.message).not.toContain('sk-wrong-key');
    const none = await checkProvider({
      name: 'local',
      kind: 'openai',
      baseUrl: fake.openaiBaseUrl,
      apiKey: null,
      model: 'gpt-4o-mini',
    });
    expect(!none.ok && none.message).toContain('answered 401, it wants an API key and none was given');
    const anthropic = await checkProvider({
      name: 'anthropic',
      kind: 'anthropic',
      baseUrl: fake.anthropicBaseUrl,
      apiKey: 'nope',
      model: 'claude-haiku-4-5',
    });
    expect(anthropic).toMatchObject({ ok: false, failure: 'key_rejected' });
    expect(!anthropic.ok && anthropic.message).toContain('answered 401, the API key was rejected: invalid x-api-key');
  });

  it('names an unknown model and what the server offers', async () => {
    const openai = await checkProvider({
      name: 'local',
      kind: 'openai',
      baseUrl: fake.openaiBaseUrl,
      apiKey: 'sk-right',
      model: 'gpt-9',
    });
    expect(openai).toEqual({
      ok: false,
      failure: 'unknown_model',
      message: `local at ${fake.openaiBaseUrl} has no model "gpt-9": it offers gpt-4o-mini, llama3.1:latest, claude-haiku-4-5`,
      // What the wizard offers to pick from instead.
      offered: ['gpt-4o-mini', 'llama3.1:latest', 'claude-haiku-4-5'],
    });
    const anthropic = await checkProvider({
      name: 'anthropic',
      kind: 'anthropic',
      baseUrl: fake.anthropicBaseUrl,
      apiKey: 'sk-right',
      model: 'claude-9',
    });
    expect(anthropic).toMatchObject({ ok: false, failure: 'unknown_model' });
    expect(!anthropic.ok && anthropic.message).toContain('anthropic does not know the model "claude-9" (404 from');
  });

  it('says a server is unreachable, with the URL and why', async () => {
    const port = await freePort();
    const refused = await checkProvider({
      name: 'local',
      kind: 'openai',
      baseUrl: `http://127.0.0.1:${port}/v1`,
      apiKey: null,
      model: 'm',
    });
    expect(refused).toEqual({
      ok: false,
      failure: 'unreachable',
      message: `cannot reach local at http://127.0.0.1:${port}/v1/models: connection refused (is the server running, on that port?)`,
    });
    const dns = await checkProvider({
      name: 'x',
      kind: 'openai',
      baseUrl: 'http://legion-no-such-host.invalid/v1',
      apiKey: null,
      model: 'm',
    });
    expect(!dns.ok && dns.message).toMatch(
      /^cannot reach x at http:\/\/legion-no-such-host\.invalid\/v1\/models: host not found/,
    );
    const slow = await checkProvider(
      { name: 'local', kind: 'openai', baseUrl: `http://127.0.0.1:${silentPort}/v1`, apiKey: null, model: 'm' },
      300,
    );
    expect(!slow.ok && slow.message).toBe(
      `cannot reach local at http://127.0.0.1:${silentPort}/v1/models: no answer within 0.3 s`,
    );
  });

  it('points at the base URL when there is no models endpoint', async () => {
    const result = await checkProvider({
      name: 'local',
      kind: 'openai',
      baseUrl: fake.url,
      apiKey: 'sk-right',
      model: 'gpt-4o-mini',
    });
    expect(result).toMatchObject({ ok: false, failure: 'unexpected_answer' });
    expect(!result.ok && result.message).toContain(
      `${fake.url}/models answered 404: no models endpoint there; is the base URL right? OpenAI-compatible servers usually end in /v1`,
    );
  });
});
