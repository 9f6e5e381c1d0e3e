// POST /mesh/llm/embeddings through Fastify, the real openai SDK and the fake provider:
// auth, validation, the configured default model, provider refusals normalized, and
// every call booked in the cost ledger as kind 'embedding' after a budget reservation.
import { afterEach, describe, expect, it } from 'vitest';
import { LlmEmbeddingsResponseSchema } from '../../../../src/shared/wire/llm.js';
import { fakeEmbedding, FAKE_EMBEDDING_DIMENSIONS } from '../../../fakes/fake-embeddings.js';
import { OPENAI_KEY, startLlmHarness, type HarnessOptions, type LlmHarness } from './harness.js';

const open: LlmHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function harness(options: HarnessOptions = {}): Promise<LlmHarness> {
  const h = await startLlmHarness(options);
  open.push(h);
  return h;
}

interface UsageRow {
  agent: string;
  kind: string;
  provider: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  cost_nano: number;
  outcome: string;
}

function ledger(h: LlmHarness): UsageRow[] {
  return h.costs.db
    .prepare<[], UsageRow>(
      'SELECT agent, kind, provider, model, prompt_tokens, completion_tokens, cost_nano, outcome FROM cost_usage ORDER BY id',
    )
    .all();
}

function openReservations(h: LlmHarness): number {
  return h.costs.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM cost_reservations').get()?.n ?? -1;
}

function errorOf(response: { json: <T>() => T }): { code: string; message: string; path?: string; status?: number } {
  return response.json<{ error: { code: string; message: string; path?: string; status?: number } }>().error;
}

describe('auth and validation', () => {
  it('refuses a call without a valid agent token, before any provider is called', async () => {
    const h = await harness({ embeddingModel: 'openai/text-embedding-3-small' });
    const response = await h.embed({ input: ['hello'] }, 'tester.not-the-secret');
    expect(response.statusCode).toBe(401);
    expect(h.openai.embeddings).toHaveLength(0);
  });

  it('answers a bad body with 400 naming the field path, and reserves nothing', async () => {
    const h = await harness({ embeddingModel: 'openai/text-embedding-3-small' });
    const cases: [unknown, string, RegExp][] = [
      [{ input: [] }, 'input', /^body: input: /],
      [{ input: Array.from({ length: 129 }, () => 'x') }, 'input', /^body: input: .*128/],
      [{ input: ['ok', ''] }, 'input.1', /^body: input\.1: /],
      [{ input: ['x'.repeat(8001)] }, 'input.0', /cut longer texts before embedding them/],
      [{ input: 'not a list' }, 'input', /^body: input: /],
      [{ input: ['x'], dimensions: 3 }, '', /unknown key "dimensions"/],
    ];
    for (const [body, path, message] of cases) {
      const response = await h.embed(body);
      expect(response.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      const error = errorOf(response);
      expect(error.code).toBe('invalid_request');
      if (path) expect(error.path).toBe(path);
      expect(error.message).toMatch(message);
    }
    expect(h.openai.embeddings).toHaveLength(0);
    expect(ledger(h)).toEqual([]);
  });

  it('says how to configure a model when none is configured and the request names none', async () => {
    const h = await harness();
    const response = await h.embed({ input: ['hello'] });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({
      code: 'no_embedding_model',
      path: 'model',
      message: expect.stringContaining(
        'set llm.embedding_model in config/mesh.yaml (for example openai/text-embedding-3-small)',
      ),
    });
    expect(h.openai.embeddings).toHaveLength(0);
  });
});

describe('embeddings', () => {
  it("embeds with the configured model through the real SDK, with the mesh's key, and books the call", async () => {
    const h = await harness({ embeddingModel: 'openai/text-embedding-3-small' });
    const input = ["My cat's name is Whiskerino", 'the sofa is green'];
    const response = await h.embed({ input });
    expect(response.statusCode).toBe(200);
    const answer = LlmEmbeddingsResponseSchema.parse(response.json());
    expect(answer.model).toBe('openai/text-embedding-3-small');
    expect(answer.dimensions).toBe(FAKE_EMBEDDING_DIMENSIONS);
    expect(answer.vectors).toEqual(input.map(fakeEmbedding));
    // The fake counts 4 characters a token, at least 1 per text.
    expect(answer.usage.prompt_tokens).toBe(7 + 5);

    expect(h.openai.embeddings).toHaveLength(1);
    const seen = h.openai.embeddings[0];
    expect(seen?.model).toBe('text-embedding-3-small');
    expect(seen?.input).toEqual(input);
    expect(seen?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(seen?.body).toMatchObject({ encoding_format: 'float' });

    // text-embedding-3-small: $0.02 per million input tokens = 20 nano-dollars a token.
    expect(ledger(h)).toEqual([
      {
        agent: 'tester',
        kind: 'embedding',
        provider: 'openai',
        model: 'text-embedding-3-small',
        prompt_tokens: 12,
        completion_tokens: 0,
        cost_nano: 240,
        outcome: 'ok',
      },
    ]);
    expect(openReservations(h)).toBe(0);
    expect(h.logs).toContainEqual(
      expect.objectContaining({
        event: 'llm_call',
        kind: 'embedding',
        agent: 'tester',
        tokens: { prompt: 12, completion: 0 },
      }),
    );
  });

  it('uses a model named in the request over the configured one', async () => {
    const h = await harness({ embeddingModel: 'openai/text-embedding-3-small' });
    const response = await h.embed({ input: ['hello'], model: 'openai/text-embedding-3-large' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ model: 'openai/text-embedding-3-large' });
    expect(h.openai.embeddings.map((call) => call.model)).toEqual(['text-embedding-3-large']);
  });

  it('refuses an Anthropic model (no embeddings API) without calling anything, at no cost', async () => {
    const h = await harness();
    const response = await h.embed({ input: ['hello'], model: 'anthropic/claude-test' });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({
      code: 'embeddings_unsupported',
      path: 'model',
      message: expect.stringContaining('has no embeddings API'),
    });
    expect(h.anthropic.calls).toHaveLength(0);
    expect(ledger(h)).toEqual([expect.objectContaining({ kind: 'embedding', outcome: 'failed', cost_nano: 0 })]);
    expect(openReservations(h)).toBe(0);
  });

  it('normalizes a provider refusal as chat does and books it at zero', async () => {
    const h = await harness({ embeddingModel: 'openai/text-embedding-3-small' });
    h.openai.failEmbeddings({ status: 400, message: 'This model does not support embeddings' });
    const response = await h.embed({ input: ['hello'] });
    expect(response.statusCode).toBe(502);
    expect(errorOf(response)).toMatchObject({
      code: 'provider_error',
      status: 400,
      message: 'openai returned 400: This model does not support embeddings',
    });
    expect(ledger(h)).toEqual([expect.objectContaining({ kind: 'embedding', outcome: 'failed', cost_nano: 0 })]);
  });

  it("names the key variable when the provider refuses the mesh's key, without echoing the key", async () => {
    const h = await harness({
      embeddingModel: 'openai/text-embedding-3-small',
      dotEnv: { LEGION_CRED_OPENAI_API_KEY: 'sk-wrong-key-0123456789' },
    });
    const response = await h.embed({ input: ['hello'] });
    expect(response.statusCode).toBe(502);
    expect(errorOf(response).message).toMatch(/^openai returned 401: Incorrect API key provided/);
    expect(response.payload).not.toContain('sk-wrong-key-0123456789');
  });

  it('refuses a call over budget with 402 before the provider sees it', async () => {
    const h = await harness({
      embeddingModel: 'openai/text-embedding-3-small',
      meshLines: ['budget: { daily_usd: 0 }'],
    });
    const response = await h.embed({ input: ['hello'] });
    expect(response.statusCode).toBe(402);
    expect(errorOf(response)).toMatchObject({
      code: 'budget_exceeded',
      message: expect.stringMatching(/^fleet budget exceeded: daily \$0/),
    });
    expect(h.openai.embeddings).toHaveLength(0);
    expect(ledger(h)).toEqual([]);
  });
});
