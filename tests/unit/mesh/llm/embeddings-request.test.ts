// The embeddings request as the mesh validates it: a bad body is a 400 LegionError whose
// message names the field path and the limit, so an agent (or its user) can fix it.
import { describe, expect, it } from 'vitest';
import { LegionError } from '../../../../src/shared/errors.js';
import { parseOrThrow } from '../../../../src/shared/validate.js';
import {
  LlmEmbeddingsRequestSchema,
  MAX_EMBEDDING_INPUT_CHARS,
  MAX_EMBEDDING_INPUTS,
} from '../../../../src/shared/wire/llm.js';

function refusal(body: unknown): LegionError {
  try {
    parseOrThrow(LlmEmbeddingsRequestSchema, body, 'body');
  } catch (err) {
    if (err instanceof LegionError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(body).slice(0, 60)} to be refused`);
}

describe('LlmEmbeddingsRequestSchema', () => {
  it('takes 1 to 128 texts of up to 8,000 characters, with or without a model', () => {
    expect(parseOrThrow(LlmEmbeddingsRequestSchema, { input: ['a'] }, 'body')).toEqual({ input: ['a'] });
    const full = {
      model: 'openai/text-embedding-3-small',
      input: Array.from({ length: MAX_EMBEDDING_INPUTS }, () => 'x'.repeat(MAX_EMBEDDING_INPUT_CHARS)),
    };
    expect(parseOrThrow(LlmEmbeddingsRequestSchema, full, 'body').input).toHaveLength(128);
  });

  it('refuses an empty list, a 129th text, an empty or too long text, and unknown keys, naming the path', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ input: [] }, 'input', /^body: input: .*1/],
      [{ input: Array.from({ length: MAX_EMBEDDING_INPUTS + 1 }, () => 'x') }, 'input', /^body: input: .*128/],
      [{ input: ['a', 'b', ''] }, 'input.2', /^body: input\.2: /],
      [
        { input: ['x'.repeat(MAX_EMBEDDING_INPUT_CHARS + 1)] },
        'input.0',
        /^body: input\.0: expected at most 8000 characters; cut longer texts before embedding them/,
      ],
      [{ input: [42] }, 'input.0', /^body: input\.0: expected a string/],
      [{}, 'input', /^body: input: /],
    ];
    for (const [body, path, message] of cases) {
      const err = refusal(body);
      expect(err).toMatchObject({ code: 'invalid_request', status: 400, details: { path } });
      expect(err.message).toMatch(message);
    }
    expect(refusal({ input: ['x'], encoding_format: 'base64' }).message).toMatch(/unknown key "encoding_format"/);
  });
});
