// What a provider adapter (openai.ts, anthropic.ts) is handed for one call, and the
// options both SDK clients are built with. The provider settings themselves are project
// config (src/shared/config/providers.ts); this is the live side of calling one.
import type { ProviderSettings } from '../../shared/config/providers.js';
import { providerFetch } from './fetch.js';
import type { LlmChatRequestParsed } from '../../shared/wire/llm.js';

/** One call as a provider adapter (openai.ts, anthropic.ts) receives it. */
export interface ProviderCall {
  provider: ProviderSettings;
  /** The model name without the `provider/` prefix. */
  model: string;
  request: LlmChatRequestParsed;
  /** When set, the provider is called in streaming mode and each text delta lands here. */
  onDelta?: (text: string) => void;
  signal?: AbortSignal;
}

/** Both SDKs retry 429, 408/409, 5xx and connection failures with exponential backoff
 *  and jitter. They retry only while waiting for the response status, so a stream that
 *  has already delivered tokens is never replayed. Their requests go through the pooled
 *  providerFetch (fetch.ts). */
export const SDK_CLIENT_OPTIONS = { maxRetries: 2, timeout: 10 * 60_000, fetch: providerFetch } as const;
