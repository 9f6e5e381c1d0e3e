// The mesh's LLM credential proxy: one normalized request in, one normalized answer
// out, with the provider's key added here and nowhere else. Invariants: every call
// writes exactly one `llm_call` log line (agent, provider, model, tokens, latency_ms;
// never a key or message content); every failure is a LegionError from errors.ts.
import { modelTakesImages, withoutImages } from './images.js';
import type { Logger } from '../../shared/logging.js';
import { LegionError } from '../../shared/errors.js';
import type { LlmChatRequestParsed, LlmChatResponse } from '../../shared/wire/llm.js';
import { callAnthropic } from './anthropic.js';
import { normalizeProviderError } from './errors.js';
import { callOpenAi } from './openai.js';
import type { ProviderKind, ProviderRegistry, ProviderSettings } from '../../shared/config/providers.js';
import type { ProviderCall } from './provider-call.js';

export interface LlmCallOptions {
  /** The calling agent, for the log line. */
  agent: string;
  /** When set, the provider streams and each text delta is passed here as it arrives. */
  onDelta?: (text: string) => void;
  signal?: AbortSignal;
}

export interface LlmProxy {
  chat(request: LlmChatRequestParsed & { model: string }, options: LlmCallOptions): Promise<LlmChatResponse>;
}

const ADAPTERS: Record<ProviderKind, (call: ProviderCall) => Promise<LlmChatResponse>> = {
  openai: callOpenAi,
  anthropic: callAnthropic,
};

/** `openai/gpt-4o-mini` -> provider `openai`, model `gpt-4o-mini`; null without a
 *  provider or model part. Only the first `/` splits, since model names such as
 *  `meta-llama/Llama-3-8B` contain their own. */
export function splitModel(model: string): { provider: string; model: string } | null {
  const slash = model.indexOf('/');
  if (slash <= 0 || slash === model.length - 1) return null;
  return { provider: model.slice(0, slash), model: model.slice(slash + 1) };
}

/** The provider a `provider/model` reference names, and the model name without the
 *  prefix; a 400 LegionError (path `model`) when the reference is malformed or the
 *  provider unknown. */
export function resolveModel(registry: ProviderRegistry, model: string): { provider: ProviderSettings; model: string } {
  const ref = splitModel(model);
  if (!ref) {
    throw new LegionError(
      'invalid_request',
      `body: model: expected "provider/model", for example openai/gpt-4o-mini, got "${model}"`,
      { path: 'model' },
    );
  }
  const provider = registry.get(ref.provider);
  if (!provider) {
    throw new LegionError(
      'unknown_provider',
      `unknown provider "${ref.provider}" in model "${model}" (known: ${[...registry.keys()].join(', ')})`,
      { provider: ref.provider, path: 'model' },
    );
  }
  return { provider, model: ref.model };
}

export function createLlmProxy(
  registry: ProviderRegistry,
  logger: Logger,
  imageModels: () => readonly string[] = () => [],
): LlmProxy {
  return {
    async chat(request, options) {
      const started = performance.now();
      const ref = splitModel(request.model);
      const fields = {
        agent: options.agent,
        event: 'llm_call',
        provider: ref?.provider ?? '',
        model: ref?.model ?? request.model,
      };
      try {
        const { provider, model } = resolveModel(registry, request.model);
        const shown = modelTakesImages(imageModels(), `${provider.name}/${model}`)
          ? request
          : withoutImages(request, `${provider.name}/${model}`);
        const call: ProviderCall = {
          provider,
          model,
          request: shown,
          onDelta: options.onDelta,
          signal: options.signal,
        };
        let response: LlmChatResponse;
        try {
          response = await ADAPTERS[provider.kind](call);
        } catch (err) {
          throw normalizeProviderError(err, provider);
        }
        logger.info(
          {
            ...fields,
            tokens: { prompt: response.usage.prompt_tokens, completion: response.usage.completion_tokens },
            latency_ms: elapsed(started),
          },
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

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
