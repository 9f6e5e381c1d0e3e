// The LLM providers the mesh can call and the credentials it calls them with.
// Invariants: keys and base-URL overrides come only from project.env
// (LEGION_CRED_<NAME>_API_KEY, LEGION_<NAME>_BASE_URL); `openai` and `anthropic` always
// exist; a missing key is an error only when a call needs one, so the mesh starts
// with providers nobody uses left unconfigured; no key is ever put into a message.
import { agentModelLine } from './agents-edit.js';
import { agentModel, ConfigError, PROJECT_FILES, providerKind, type Project } from './project.js';
import { LegionError } from '../errors.js';
import { isLocalBaseUrl } from '../local-address.js';

export type ProviderKind = 'openai' | 'anthropic';

export interface ProviderSettings {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  /** null when neither .env nor the environment sets one. */
  apiKey: string | null;
}

export type ProviderRegistry = ReadonlyMap<string, ProviderSettings>;

export const DEFAULT_BASE_URLS: Readonly<Record<ProviderKind, string>> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
};

/** OpenAI-compatible local servers (Ollama, vLLM) ignore the key, but the openai SDK
 *  refuses to run without one. */
export const KEYLESS_PLACEHOLDER = 'legion-no-key';

/** `my-llm` -> `MY_LLM`, the infix of the provider's environment variables. */
function envName(provider: string): string {
  return provider.toUpperCase().replaceAll('-', '_');
}

export function apiKeyVariable(provider: string): string {
  return `LEGION_CRED_${envName(provider)}_API_KEY`;
}

export function baseUrlVariable(provider: string): string {
  return `LEGION_${envName(provider)}_BASE_URL`;
}

/** Throws ConfigError when a base-URL override in the environment is not a URL. */
export function resolveProviders(project: Project): ProviderRegistry {
  const configured = project.mesh.llm.providers;
  const names = new Set(['openai', 'anthropic', ...Object.keys(configured)]);
  const registry = new Map<string, ProviderSettings>();
  for (const name of names) {
    const config = configured[name] ?? {};
    // loadProject rejects a provider that is neither named openai/anthropic nor has a kind.
    const kind: ProviderKind = providerKind(project.mesh, name);
    const override = nonEmpty(project.env[baseUrlVariable(name)]);
    if (override !== null && !URL.canParse(override)) {
      throw new ConfigError([
        `${baseUrlVariable(name)}: expected a URL such as http://127.0.0.1:11434/v1, got "${override}"`,
      ]);
    }
    const baseUrl = override ?? config.base_url ?? DEFAULT_BASE_URLS[kind];
    registry.set(name, { name, kind, baseUrl, apiKey: nonEmpty(project.env[apiKeyVariable(name)]) });
  }
  return registry;
}

/** The key to send, or a no_api_key error (503: the mesh cannot serve this provider
 *  until its operator configures a key; nothing in the request is wrong). */
export function apiKeyFor(provider: ProviderSettings): string {
  const key = usableKey(provider);
  if (key === null) throw noApiKeyError(provider, '');
  return key;
}

/** Fails `legion start` early, rather than each agent's first call: every agent's model,
 *  and the embedding model every agent's memory uses, must name a provider the mesh can call. */
export function assertKeysConfigured(project: Project): void {
  const registry = resolveProviders(project);
  const agentsByProvider = new Map<string, string[]>();
  const need = (provider: string, user: string) =>
    agentsByProvider.set(provider, [...(agentsByProvider.get(provider) ?? []), user]);
  for (const agent of Object.keys(project.agents)) need(agentModel(project, agent).split('/')[0] ?? '', agent);
  const embeddingModel = project.mesh.llm.embedding_model;
  if (embeddingModel !== undefined) need(embeddingModel.split('/')[0] ?? '', 'llm.embedding_model');
  for (const [name, agents] of agentsByProvider) {
    // An unknown provider cannot occur here: loadProject rejects models naming one.
    const provider = registry.get(name);
    if (provider && usableKey(provider) === null)
      throw noApiKeyError(provider, ` (needed by ${agents.join(', ')})${pinHint(project, name, agents)}`);
  }
}

/** For agents that name the keyless provider in their own `model:`: where that line is, and
 *  what to do instead (the usual case: setup switched providers and the example still pins one). */
function pinHint(project: Project, provider: string, users: readonly string[]): string {
  const pinned = users.filter((agent) => project.agents[agent]?.model !== undefined);
  if (pinned.length === 0) return '';
  const where = pinned.map((agent) => {
    const line = agentModelLine(project.dir, agent);
    return `agent ${agent} pins model: ${project.agents[agent]?.model ?? ''} at ${PROJECT_FILES.agents}${line === null ? '' : ` line ${line}`}`;
  });
  const fallback =
    project.mesh.llm.default_model.split('/')[0] === provider
      ? ''
      : ` to use llm.default_model (${project.mesh.llm.default_model})`;
  return `.\n${where.join('\n')}\nRemove that model: line${fallback}, or name a model of a provider that has a key`;
}

/** Providers of their own name whose base URL is on this machine or the private network
 *  (Ollama, vLLM, LM Studio). `openai` and `anthropic` pointed at such an address stay
 *  priced: that is a proxy in front of the paid API (or a test double), not a free model. */
export function localProviderNames(registry: ProviderRegistry): ReadonlySet<string> {
  const local = [...registry.values()].filter(
    (p) => p.name !== 'openai' && p.name !== 'anthropic' && isLocalBaseUrl(p.baseUrl),
  );
  return new Set(local.map((p) => p.name));
}

export function isDefaultBaseUrl(provider: ProviderSettings): boolean {
  return trimSlash(provider.baseUrl) === trimSlash(DEFAULT_BASE_URLS[provider.kind]);
}

/** An OpenAI-compatible server at a base URL of its own (Ollama, vLLM) may take no key. */
export function isKeylessServer(provider: ProviderSettings): boolean {
  return provider.kind === 'openai' && !isDefaultBaseUrl(provider);
}

function usableKey(provider: ProviderSettings): string | null {
  if (provider.apiKey !== null) return provider.apiKey;
  return isKeylessServer(provider) ? KEYLESS_PLACEHOLDER : null;
}

function noApiKeyError(provider: ProviderSettings, context: string): LegionError {
  return new LegionError(
    'no_api_key',
    `no API key for provider ${provider.name}: set ${apiKeyVariable(provider.name)} in .env or the environment${context}`,
    { provider: provider.name },
  );
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value.trim();
}
