// The provider SDK clients, one per provider, base URL and key, built at the first call
// and reused by every later one (an SDK client is costly to build, and reusing it keeps
// its connections alive). The SDKs themselves are imported at the first call: the mesh
// starts without loading them. Invariants: a client never outlives its key in the cache
// (a provider's entry is replaced when its key or URL changes, on config reload); the
// SDK classes are known synchronously once loaded, so errors.ts can classify an error
// of a loaded SDK (an SDK that is not loaded threw nothing).
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { apiKeyFor, type ProviderSettings } from '../../shared/config/providers.js';
import { SDK_CLIENT_OPTIONS } from './provider-call.js';

type OpenAiSdk = typeof import('openai');
type AnthropicSdk = typeof import('@anthropic-ai/sdk');

const loaded: { openai?: OpenAiSdk['default']; anthropic?: AnthropicSdk['default'] } = {};
let openAiModule: Promise<OpenAiSdk> | null = null;
let anthropicModule: Promise<AnthropicSdk> | null = null;

async function openAiSdk(): Promise<OpenAiSdk['default']> {
  openAiModule ??= import('openai');
  loaded.openai = (await openAiModule).default;
  return loaded.openai;
}

async function anthropicSdk(): Promise<AnthropicSdk['default']> {
  anthropicModule ??= import('@anthropic-ai/sdk');
  loaded.anthropic = (await anthropicModule).default;
  return loaded.anthropic;
}

/** The SDK classes loaded so far (for instanceof checks on what they threw). */
export function loadedSdks(): Readonly<typeof loaded> {
  return loaded;
}

interface Cached<C> {
  key: string;
  client: C;
}

const openAiClients = new Map<string, Cached<OpenAI>>();
const anthropicClients = new Map<string, Cached<Anthropic>>();

/** The cache entry of `provider` when it was built for the same URL and key, else a new one. */
async function cached<C>(
  cache: Map<string, Cached<C>>,
  provider: ProviderSettings,
  build: (apiKey: string) => Promise<C>,
): Promise<C> {
  const apiKey = apiKeyFor(provider);
  const key = `${provider.baseUrl}\n${apiKey}`;
  const hit = cache.get(provider.name);
  if (hit?.key === key) return hit.client;
  const client = await build(apiKey);
  cache.set(provider.name, { key, client });
  return client;
}

export function openAiClient(provider: ProviderSettings): Promise<OpenAI> {
  return cached(openAiClients, provider, async (apiKey) => {
    const OpenAiClient = await openAiSdk();
    return new OpenAiClient({
      apiKey,
      baseURL: provider.baseUrl,
      // The project's config is the only source of settings; the SDK would otherwise read these from process.env.
      organization: null,
      project: null,
      ...SDK_CLIENT_OPTIONS,
    });
  });
}

export function anthropicClient(provider: ProviderSettings): Promise<Anthropic> {
  return cached(anthropicClients, provider, async (apiKey) => {
    const AnthropicClient = await anthropicSdk();
    return new AnthropicClient({ apiKey, baseURL: provider.baseUrl, ...SDK_CLIENT_OPTIONS });
  });
}
