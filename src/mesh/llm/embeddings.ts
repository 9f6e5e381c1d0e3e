// The mesh's embeddings proxy: texts in, one vector per text out, with the provider's
// key added here and nowhere else. Invariants: only OpenAI-kind providers are called
// (Anthropic has no embeddings API); vectors come back in input order, all of one
// dimension, or the call fails; every call writes exactly one `llm_call` log line with
// kind embedding (never a key or a text); every failure is a LegionError from errors.ts.
import { LegionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import type { LlmEmbeddingsResponse } from '../../shared/wire/llm.js';
import { normalizeProviderError } from './errors.js';
import type { ProviderRegistry, ProviderSettings } from '../../shared/config/providers.js';
import { openAiClient } from './clients.js';
import { resolveModel } from './proxy.js';

export interface EmbeddingsCallOptions {
  /** The calling agent, for the log line. */
  agent: string;
  signal?: AbortSignal;
}

export interface EmbeddingsProxy {
  embed(request: { model: string; input: string[] }, options: EmbeddingsCallOptions): Promise<LlmEmbeddingsResponse>;
}

export function createEmbeddingsProxy(registry: ProviderRegistry, logger: Logger): EmbeddingsProxy {
  return {
    async embed(request, options) {
      const started = performance.now();
      const fields = {
        agent: options.agent,
        event: 'llm_call',
        kind: 'embedding',
        model: request.model,
        inputs: request.input.length,
      };
      try {
        const { provider, model } = resolveModel(registry, request.model);
        if (provider.kind !== 'openai') {
          throw new LegionError(
            'embeddings_unsupported',
            `provider ${provider.name} is an Anthropic provider, which has no embeddings API; use a model of an OpenAI-compatible provider, for example openai/text-embedding-3-small`,
            { provider: provider.name, path: 'model' },
          );
        }
        let vectors: number[][];
        let promptTokens: number;
        try {
          ({ vectors, promptTokens } = await callOpenAiEmbeddings(provider, model, request.input, options.signal));
        } catch (err) {
          throw normalizeProviderError(err, provider);
        }
        const response = checkedResponse(provider, request.model, request.input.length, vectors, promptTokens);
        logger.info(
          { ...fields, tokens: { prompt: promptTokens, completion: 0 }, latency_ms: elapsed(started) },
          'llm call',
        );
        return response;
      } catch (err) {
        const error =
          err instanceof LegionError
            ? { code: err.code, message: err.message, ...err.details }
            : { code: 'internal', message: String(err) };
        logger.warn({ ...fields, latency_ms: elapsed(started), error }, 'llm call failed');
        throw err;
      }
    },
  };
}

async function callOpenAiEmbeddings(
  provider: ProviderSettings,
  model: string,
  input: string[],
  signal: AbortSignal | undefined,
): Promise<{ vectors: number[][]; promptTokens: number }> {
  const client = await openAiClient(provider);
  // Without an explicit format the SDK asks for base64, which not every OpenAI-compatible
  // server (older Ollama) speaks; floats are understood by all of them.
  const answer = await client.embeddings.create({ model, input, encoding_format: 'float' }, signal ? { signal } : {});
  const ordered = [...answer.data].sort((a, b) => a.index - b.index);
  return { vectors: ordered.map((item) => item.embedding), promptTokens: answer.usage?.prompt_tokens ?? 0 };
}

/** The provider's answer, or a provider_error when it is not one vector per text of one size. */
function checkedResponse(
  provider: ProviderSettings,
  model: string,
  inputs: number,
  vectors: number[][],
  promptTokens: number,
): LlmEmbeddingsResponse {
  const dimensions = vectors[0]?.length ?? 0;
  const problem =
    vectors.length !== inputs
      ? `returned ${vectors.length} vectors for ${inputs} texts`
      : dimensions === 0 || vectors.some((vector) => vector.length !== dimensions || !vector.every(Number.isFinite))
        ? 'returned empty, non-numeric or differently sized vectors'
        : null;
  if (problem !== null) {
    throw new LegionError('provider_error', `${provider.name} ${problem} (model ${model})`, {
      provider: provider.name,
    });
  }
  return { model, dimensions, vectors, usage: { prompt_tokens: promptTokens } };
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
