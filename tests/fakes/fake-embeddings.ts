// The OpenAI embeddings format for the fake provider: POST /v1/embeddings with
// `{model, input: string | string[], encoding_format?: 'float' | 'base64'}`, answered
// as api.openai.com answers (`{object: 'list', data: [{object: 'embedding', index,
// embedding}], model, usage: {prompt_tokens, total_tokens}}`; base64 is the
// little-endian float32 bytes the openai SDK asks for by default). Vectors are
// deterministic: a bag of words hashed into FAKE_EMBEDDING_DIMENSIONS dimensions and
// L2-normalized, so texts sharing words are near each other and a text always gets the
// same vector; usage is estimated at 4 characters a token, as the chat formats do.
import { isRecord } from './fake-types.js';

export const EMBEDDINGS_PATH = '/v1/embeddings';
export const FAKE_EMBEDDING_DIMENSIONS = 64;

export interface FakeEmbeddingCall {
  headers: Record<string, string | string[] | undefined>;
  /** The raw JSON request body. */
  body: unknown;
  model: string;
  input: string[];
}

export interface EmbeddingRequest {
  model: string;
  input: string[];
  base64: boolean;
}

/** The request, or a message for a 400 in OpenAI's format. */
export function parseEmbeddingRequest(body: unknown): EmbeddingRequest | string {
  if (!isRecord(body)) return 'the body must be a JSON object';
  if (typeof body.model !== 'string' || body.model === '') return 'you must provide a model parameter';
  const input = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(input) || input.length === 0) return "'input' must be a non-empty string or array of strings";
  const texts: string[] = [];
  for (const [index, text] of input.entries()) {
    // The real API also takes token arrays; nothing in legion sends them.
    if (typeof text !== 'string') return `input[${index}]: the fake provider accepts only strings`;
    if (text === '') return `'$.input' is invalid: input[${index}] is an empty string`;
    texts.push(text);
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64')
    return `encoding_format must be 'float' or 'base64', got ${JSON.stringify(format)}`;
  return { model: body.model, input: texts, base64: format === 'base64' };
}

export function embeddingAnswer(request: EmbeddingRequest): unknown {
  const promptTokens = request.input.reduce((sum, text) => sum + Math.max(1, Math.ceil(text.length / 4)), 0);
  return {
    object: 'list',
    data: request.input.map((text, index) => {
      const vector = fakeEmbedding(text);
      return { object: 'embedding', index, embedding: request.base64 ? toBase64(vector) : vector };
    }),
    model: request.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** Each lowercased word adds 1 to the dimension its FNV-1a hash picks; the sum is scaled to length 1. */
export function fakeEmbedding(text: string): number[] {
  const vector = new Array<number>(FAKE_EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const slot = fnv1a(word) % FAKE_EMBEDDING_DIMENSIONS;
    vector[slot] = (vector[slot] ?? 0) + 1;
  }
  const length = Math.hypot(...vector);
  // A text without words still needs a valid vector: any fixed unit vector will do.
  if (length === 0) return vector.map((_, index) => (index === 0 ? 1 : 0));
  return vector.map((value) => value / length);
}

function fnv1a(word: string): number {
  let hash = 0x811c9dc5;
  for (const char of word) hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  return hash;
}

function toBase64(vector: number[]): string {
  return Buffer.from(Float32Array.from(vector).buffer).toString('base64');
}
