// MeshEmbedder, the agent's embedder that calls the mesh: requests of at most 128 texts
// naming its own model, texts cut to what the mesh accepts, vectors in input order, and
// an answer for another model refused rather than mixed into the index.
import { describe, expect, it } from 'vitest';
import { embeddableText, MeshEmbedder } from '../../src/agent/memory/mesh-embedder.js';
import type { EmbeddingsClient } from '../../src/agent/mesh-client.js';
import type { LlmEmbeddingsRequest, LlmEmbeddingsResponse } from '../../src/shared/wire/llm.js';

/** Answers each text with [its length, its position in the request]. */
class RecordingClient implements EmbeddingsClient {
  readonly requests: LlmEmbeddingsRequest[] = [];
  answerModel: string | null = null;

  async llmEmbeddings(request: LlmEmbeddingsRequest): Promise<LlmEmbeddingsResponse> {
    this.requests.push(request);
    return {
      model: this.answerModel ?? request.model ?? '',
      dimensions: 2,
      vectors: request.input.map((text, index) => [text.length, index]),
      usage: { prompt_tokens: request.input.length },
    };
  }
}

describe('MeshEmbedder', () => {
  it('sends at most 128 texts per request, each naming its model, and keeps input order', async () => {
    const client = new RecordingClient();
    const embedder = new MeshEmbedder(client, 'openai/text-embedding-3-small');
    const texts = Array.from({ length: 300 }, (_, i) => 'x'.repeat(i + 1));
    const vectors = await embedder.embed(texts);
    expect(client.requests.map((r) => r.input.length)).toEqual([128, 128, 44]);
    expect(client.requests.every((r) => r.model === 'openai/text-embedding-3-small')).toBe(true);
    expect(vectors.map((v) => v[0])).toEqual(texts.map((t) => t.length));
  });

  it('refuses vectors of another model than it asked for', async () => {
    const client = new RecordingClient();
    client.answerModel = 'openai/text-embedding-3-large';
    await expect(new MeshEmbedder(client, 'openai/text-embedding-3-small').embed(['a'])).rejects.toMatchObject({
      code: 'mesh_bad_response',
      message: 'asked the mesh for openai/text-embedding-3-small embeddings, got openai/text-embedding-3-large',
    });
  });
});

describe('embeddableText', () => {
  it('keeps the start of a long text, never splits a surrogate pair, and never sends an empty text', () => {
    expect(embeddableText('short')).toBe('short');
    expect(embeddableText(`${'a'.repeat(7999)}bcd`)).toBe(`${'a'.repeat(7999)}b`);
    // The 8,000th code unit is the first half of 😀: the cut drops the whole character.
    expect(embeddableText(`${'a'.repeat(7999)}😀tail`)).toBe('a'.repeat(7999));
    expect(embeddableText('')).toBe(' ');
  });
});
