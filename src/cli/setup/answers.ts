// What `legion setup` is asked to do, whether the answers came from the wizard or from
// flags (--yes). Pure: no file is read or written here, the environment is passed in.
// Invariants: a missing or contradictory flag is a LegionError whose message names the
// flag; an API key is never put into a message.
import { isIP } from 'node:net';
import { LegionError } from '../../shared/errors.js';

export const PROVIDER_CHOICES = ['openai', 'anthropic', 'openai-compatible'] as const;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];

/** Cheap, capable models to start with; an OpenAI-compatible server's is Ollama's usual one. */
export const DEFAULT_MODELS: Readonly<Record<ProviderChoice, string>> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-haiku-4-5',
  'openai-compatible': 'llama3.1',
};

export const DEFAULT_TEMPLATE = 'starter';
export const DEFAULT_MESH_PORT = 8420;
export const EXAMPLE_LOCAL_BASE_URL = 'http://127.0.0.1:11434/v1';

/** The LLM provider setup configures: one entry under llm.providers and llm.default_model. */
export interface LlmChoice {
  choice: ProviderChoice;
  /** Its name in mesh.yaml, the prefix of model names and the infix of its key variable. */
  name: string;
  kind: 'openai' | 'anthropic';
  /** null: the kind's public API (api.openai.com, api.anthropic.com). */
  baseUrl: string | null;
  /** Without the `provider/` prefix. */
  model: string;
}

/** PROJECT.md's sections. undefined keeps a section as it is; '' leaves it out (or removes it). */
export interface ProjectBrief {
  building?: string | undefined;
  priority?: string | undefined;
  constraints?: string | undefined;
}

/** Everything setup may change; null or undefined means "keep what is there". */
export interface SetupRequest {
  llm: LlmChoice | null;
  /** The key to store in .env under the provider's variable; null stores none. */
  apiKey: string | null;
  template: string | null;
  brief: ProjectBrief;
  port: number | null;
}

/** The options commander hands the setup command (all strings, as typed). */
export interface SetupFlags {
  yes?: boolean;
  provider?: string;
  baseUrl?: string;
  apiKey?: string;
  apiKeyEnv?: string;
  model?: string;
  template?: string;
  project?: string;
  priority?: string;
  constraints?: string;
  port?: string;
  skipImage?: boolean;
}

/** The LLM settings of a project that already has config/mesh.yaml. */
export interface CurrentLlm {
  name: string;
  kind: 'openai' | 'anthropic';
  baseUrl: string | null;
  model: string;
  /** Providers for which .env or the environment already holds a key. */
  keyedProviders: readonly string[];
}

const VALUE_FLAGS = [
  'provider',
  'baseUrl',
  'apiKey',
  'apiKeyEnv',
  'model',
  'template',
  'project',
  'priority',
  'constraints',
  'port',
] as const;

export function flagName(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The value flags given, as typed on the command line (--base-url, ...). */
export function givenValueFlags(flags: SetupFlags): string[] {
  return VALUE_FLAGS.filter((key) => flags[key] !== undefined).map(flagName);
}

function invalid(message: string): LegionError {
  return new LegionError('invalid_flag', message);
}

export function isProviderChoice(value: string): value is ProviderChoice {
  return (PROVIDER_CHOICES as readonly string[]).includes(value);
}

/** A problem with a base URL, or null when it is an http(s) URL. */
export function baseUrlProblem(value: string): string | null {
  if (!URL.canParse(value)) return `expected a URL such as ${EXAMPLE_LOCAL_BASE_URL}, got "${value}"`;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:' ? null : `expected an http:// or https:// URL, got "${value}"`;
}

/** A problem with a model name, or null. */
export function modelProblem(value: string): string | null {
  if (value.trim() === '') return 'expected a model name such as gpt-4o-mini';
  return /\s/.test(value) ? `a model name has no spaces, got "${value}"` : null;
}

/** A problem with an API key (never quoting it), or null. Keys go into .env unquoted. */
export function apiKeyProblem(value: string): string | null {
  if (value === '') return 'the API key is empty';
  return /^[\x21-\x7e]+$/.test(value) && !/["'`#\\]/.test(value)
    ? null
    : 'the API key holds spaces, quotes, # or characters outside printable ASCII, which no provider key has: check what was pasted';
}

/** The agent API's port; the egress proxy takes the next one. */
export function portProblem(value: string): string | null {
  const port = Number(value);
  return /^\d+$/.test(value) && port >= 1 && port <= 65534
    ? null
    : `expected a port number from 1 to 65534 (the egress proxy takes the next one), got "${value}"`;
}

function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\./.test(bare);
}

/** A server on this machine needs no key (Ollama, vLLM, LM Studio), so the wizard does not ask. */
export function isLocalServer(baseUrl: string): boolean {
  return isLoopbackHost(new URL(baseUrl).hostname);
}

/**
 * The name an OpenAI-compatible server gets in mesh.yaml: `ollama` on Ollama's port
 * 11434, `local` for an address or a host without a domain, else the domain's name
 * (api.groq.com -> groq). openai and anthropic are kept for the public APIs' own entries.
 */
export function compatibleProviderName(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.port === '11434') return 'ollama';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const labels = host.split('.');
  if (isIP(host) !== 0 || labels.length < 2) return 'local';
  const name = (labels.at(-2) ?? '').toLowerCase().replace(/[^a-z0-9-]/g, '');
  return /^[a-z0-9][a-z0-9_-]*$/.test(name) && name !== 'openai' && name !== 'anthropic' ? name : 'compatible';
}

/** The provider entry for a choice; baseUrl is required for an OpenAI-compatible server. */
export function llmChoice(choice: ProviderChoice, baseUrl: string | null, model: string): LlmChoice {
  if (choice === 'openai-compatible') {
    if (baseUrl === null) throw invalid(`${flagName('baseUrl')} is required with --provider openai-compatible`);
    return { choice, name: compatibleProviderName(baseUrl), kind: 'openai', baseUrl, model };
  }
  return { choice, name: choice, kind: choice, baseUrl, model };
}

/** Whether a provider works without a key: any OpenAI-compatible server but api.openai.com. */
export function keyOptional(llm: Pick<LlmChoice, 'kind' | 'baseUrl'>): boolean {
  return llm.kind === 'openai' && llm.baseUrl !== null && new URL(llm.baseUrl).hostname !== 'api.openai.com';
}

function keyFromFlags(flags: SetupFlags, env: NodeJS.ProcessEnv): string | null {
  if (flags.apiKey !== undefined && flags.apiKeyEnv !== undefined) {
    throw invalid('--api-key and --api-key-env are mutually exclusive: pass the key one way');
  }
  if (flags.apiKeyEnv !== undefined) {
    const value = env[flags.apiKeyEnv];
    if (value === undefined || value.trim() === '')
      throw invalid(`--api-key-env names ${flags.apiKeyEnv}, which is not set in the environment (or is empty)`);
    const problem = apiKeyProblem(value.trim());
    if (problem) throw invalid(`--api-key-env ${flags.apiKeyEnv}: ${problem}`);
    return value.trim();
  }
  if (flags.apiKey !== undefined) {
    const problem = apiKeyProblem(flags.apiKey);
    if (problem) throw invalid(`--api-key: ${problem}`);
    return flags.apiKey;
  }
  return null;
}

function textFlag(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.trim();
}

/**
 * The request of `legion setup --yes`. On a new project (current === null) --provider
 * is required and the rest has defaults; on an existing one only what a flag names
 * changes: --model or --base-url alone change the current provider's.
 */
export function requestFromFlags(flags: SetupFlags, current: CurrentLlm | null, env: NodeJS.ProcessEnv): SetupRequest {
  if (flags.provider !== undefined && !isProviderChoice(flags.provider)) {
    throw invalid(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}, not "${flags.provider}"`);
  }
  if (flags.baseUrl !== undefined) {
    const problem = baseUrlProblem(flags.baseUrl);
    if (problem) throw invalid(`--base-url: ${problem}`);
  }
  if (flags.model !== undefined) {
    const problem = modelProblem(flags.model);
    if (problem) throw invalid(`--model: ${problem}`);
  }
  if (flags.port !== undefined) {
    const problem = portProblem(flags.port);
    if (problem) throw invalid(`--port: ${problem}`);
  }
  if (flags.template !== undefined && flags.template.trim() === '')
    throw invalid('--template: expected a template name such as starter');
  const apiKey = keyFromFlags(flags, env);
  const brief: ProjectBrief = {
    building: textFlag(flags.project),
    priority: textFlag(flags.priority),
    constraints: textFlag(flags.constraints),
  };
  const port = flags.port === undefined ? null : Number(flags.port);

  if (current === null) {
    if (flags.provider === undefined) {
      throw invalid(
        `--provider is required with --yes in a directory without config/mesh.yaml (one of ${PROVIDER_CHOICES.join(', ')})`,
      );
    }
    const choice = flags.provider as ProviderChoice;
    const llm = llmChoice(choice, flags.baseUrl ?? null, flags.model ?? DEFAULT_MODELS[choice]);
    if (apiKey === null && !keyOptional(llm))
      throw invalid(`--api-key or --api-key-env is required with --provider ${choice}`);
    return { llm, apiKey, template: flags.template ?? DEFAULT_TEMPLATE, brief, port };
  }

  let llm: LlmChoice | null = null;
  if (flags.provider !== undefined) {
    const choice = flags.provider as ProviderChoice;
    const fresh = llmChoice(choice, flags.baseUrl ?? null, flags.model ?? DEFAULT_MODELS[choice]);
    // The same provider again keeps its model unless --model says otherwise.
    llm = fresh.name === current.name && flags.model === undefined ? { ...fresh, model: current.model } : fresh;
  } else if (flags.model !== undefined || flags.baseUrl !== undefined) {
    const choice: ProviderChoice =
      current.kind === 'anthropic' ? 'anthropic' : current.name === 'openai' ? 'openai' : 'openai-compatible';
    llm = {
      choice,
      name: current.name,
      kind: current.kind,
      baseUrl: flags.baseUrl ?? current.baseUrl,
      model: flags.model ?? current.model,
    };
  }
  const target = llm ?? current;
  if (llm !== null && apiKey === null && !current.keyedProviders.includes(target.name) && !keyOptional(target)) {
    throw invalid(
      `--api-key or --api-key-env is required: provider ${target.name} has no key in .env or the environment yet`,
    );
  }
  return { llm, apiKey, template: flags.template ?? null, brief, port };
}

/** Whether a request changes anything at all. */
export function requestChangesSomething(request: SetupRequest): boolean {
  const { building, priority, constraints } = request.brief;
  return (
    request.llm !== null ||
    request.apiKey !== null ||
    request.template !== null ||
    request.port !== null ||
    building !== undefined ||
    priority !== undefined ||
    constraints !== undefined
  );
}
