// The questions of `legion setup` in a terminal (@clack/prompts: arrow keys, defaults,
// hidden key input). Each function only asks: it returns a SetupRequest and touches no
// file. Ctrl-C at any question throws SetupCancelled, so the caller writes nothing.
import { cancel, confirm, isCancel, log, multiselect, password, select, text } from '@clack/prompts';
import { apiKeyVariable } from '../../shared/config/providers.js';
import { LegionError } from '../../shared/errors.js';
import type { TemplateSummary } from '../templates/index.js';
import { firstFreePortPair, portPairFree } from './port.js';
import {
  apiKeyProblem,
  baseUrlProblem,
  DEFAULT_MESH_PORT,
  DEFAULT_MODELS,
  DEFAULT_TEMPLATE,
  EXAMPLE_LOCAL_BASE_URL,
  isLocalServer,
  keyOptional,
  llmChoice,
  modelProblem,
  portProblem,
  type CurrentLlm,
  type LlmChoice,
  type ProjectBrief,
  type ProviderChoice,
  type SetupRequest,
} from './answers.js';

export class SetupCancelled extends LegionError {
  constructor() {
    super('setup_cancelled', 'setup cancelled: nothing was written');
  }
}

function answered<T>(value: T): Exclude<T, symbol> {
  if (isCancel(value)) {
    cancel('setup cancelled: nothing was written');
    throw new SetupCancelled();
  }
  return value as Exclude<T, symbol>;
}

const PROVIDER_OPTIONS: { value: ProviderChoice; label: string; hint: string }[] = [
  { value: 'openai', label: 'OpenAI', hint: 'api.openai.com, needs an API key' },
  { value: 'anthropic', label: 'Anthropic', hint: 'api.anthropic.com, needs an API key' },
  {
    value: 'openai-compatible',
    label: 'An OpenAI-compatible server',
    hint: 'Ollama, vLLM, LM Studio, Groq… at a base URL',
  },
];

async function askProvider(initial: ProviderChoice | undefined): Promise<ProviderChoice> {
  return answered(
    await select<ProviderChoice>({
      message: 'Which LLM provider?',
      options: PROVIDER_OPTIONS,
      initialValue: initial ?? 'openai',
    }),
  );
}

async function askBaseUrl(initial: string | null): Promise<string> {
  const fallback = initial ?? EXAMPLE_LOCAL_BASE_URL;
  const value = answered(
    await text({
      message: `Base URL of the server (Enter for ${fallback})`,
      placeholder: fallback,
      defaultValue: fallback,
      validate: (v) => (v ? (baseUrlProblem(v) ?? undefined) : undefined),
    }),
  );
  return value.trim() || fallback;
}

async function askModel(choice: ProviderChoice, initial: string | undefined): Promise<string> {
  const fallback = initial ?? DEFAULT_MODELS[choice];
  const value = answered(
    await text({
      message: `Default model (Enter for ${fallback})`,
      placeholder: fallback,
      defaultValue: fallback,
      validate: (v) => (v ? (modelProblem(v) ?? undefined) : undefined),
    }),
  );
  return value.trim() || fallback;
}

/** The key for a provider: required for the public APIs, optional for a remote
 *  OpenAI-compatible server, not asked for one on this machine. null: none. */
async function askKey(llm: LlmChoice): Promise<string | null> {
  const variable = apiKeyVariable(llm.name);
  if (llm.baseUrl !== null && llm.choice === 'openai-compatible' && isLocalServer(llm.baseUrl)) {
    log.info(`A server on this machine needs no key (if yours wants one, set ${variable} in .env).`);
    return null;
  }
  const optional = keyOptional(llm);
  const value = answered(
    await password({
      message: optional
        ? `API key, if the server wants one (hidden; Enter for none; stored in .env as ${variable})`
        : `API key (hidden; stored in .env as ${variable})`,
      validate: (v) => {
        if (!v) return optional ? undefined : 'an API key is required for this provider';
        return apiKeyProblem(v) ?? undefined;
      },
    }),
  );
  return value === '' ? null : value;
}

/** The provider and, for an OpenAI-compatible server, its base URL; the model comes later. */
async function askProviderEntry(current: { choice?: ProviderChoice; baseUrl?: string | null }): Promise<LlmChoice> {
  const choice = await askProvider(current.choice);
  const baseUrl =
    choice === 'openai-compatible'
      ? await askBaseUrl(current.choice === choice ? (current.baseUrl ?? null) : null)
      : null;
  return llmChoice(choice, baseUrl, '');
}

async function askOptionalText(message: string, initial: string): Promise<string> {
  const value = answered(await text({ message, placeholder: 'Enter to skip', initialValue: initial }));
  return value.trim();
}

async function askBrief(current: ProjectBrief): Promise<ProjectBrief> {
  const building = answered(
    await text({
      message: 'What is this project building? (goes into PROJECT.md, which every agent reads)',
      initialValue: current.building ?? '',
      validate: (v) => (v && v.trim() !== '' ? undefined : 'a sentence or two, so the agents know what they work on'),
    }),
  ).trim();
  const priority = await askOptionalText('Its current priority (optional)', current.priority ?? '');
  const constraints = await askOptionalText(
    'Its hard constraints, what agents must never do (optional)',
    current.constraints ?? '',
  );
  return { building, priority, constraints };
}

async function askTemplate(templates: TemplateSummary[], message: string): Promise<string> {
  return answered(
    await select<string>({
      message,
      options: templates.map((t) => ({
        value: t.name,
        label: t.name,
        hint: `${t.agents.join(', ')}: ${t.description}`,
      })),
      initialValue: templates.some((t) => t.name === DEFAULT_TEMPLATE) ? DEFAULT_TEMPLATE : templates[0]?.name,
    }),
  );
}

/** The mesh port (the egress proxy takes the next one), offered free and checked free. */
async function askPort(): Promise<number> {
  let fallback = await firstFreePortPair(DEFAULT_MESH_PORT);
  for (;;) {
    const value = answered(
      await text({
        message: `Mesh port (Enter for ${fallback}; the egress proxy takes the next one)`,
        placeholder: String(fallback),
        defaultValue: String(fallback),
        validate: (v) => (v ? (portProblem(v.trim()) ?? undefined) : undefined),
      }),
    );
    const port = Number(value.trim() || fallback);
    if (await portPairFree(port)) return port;
    log.warn(`port ${port} or ${port + 1} is in use on this machine (another mesh?): pick another`);
    fallback = await firstFreePortPair(port + 2);
  }
}

/** Every question, in order, for a directory without config/mesh.yaml. */
export async function askNewProject(templates: TemplateSummary[]): Promise<SetupRequest> {
  const entry = await askProviderEntry({});
  const apiKey = await askKey(entry);
  const llm = { ...entry, model: await askModel(entry.choice, undefined) };
  const brief = await askBrief({});
  const template = await askTemplate(templates, 'Which team should the project start with?');
  const port = await askPort();
  return { llm, apiKey, template, brief, port };
}

type Change = 'llm' | 'key' | 'brief' | 'template';

function currentChoice(current: CurrentLlm): ProviderChoice {
  if (current.kind === 'anthropic') return 'anthropic';
  return current.name === 'openai' ? 'openai' : 'openai-compatible';
}

/** For a project that has config/mesh.yaml: asks what to change first, then only that. */
export async function askExistingProject(
  current: CurrentLlm,
  brief: ProjectBrief,
  templates: TemplateSummary[],
): Promise<SetupRequest> {
  const changes = answered(
    await multiselect<Change>({
      message:
        'This directory is a legion project already. What should setup change? (space selects, Enter confirms; nothing selected changes nothing)',
      options: [
        { value: 'key', label: `the API key of ${current.name}`, hint: apiKeyVariable(current.name) },
        { value: 'llm', label: 'the provider and default model', hint: `now ${current.name}/${current.model}` },
        { value: 'brief', label: "PROJECT.md's brief", hint: 'what it builds, its priority, its constraints' },
        {
          value: 'template',
          label: "add a team template's agents",
          hint: 'agents already configured stay as they are',
        },
      ],
      // A project whose provider has no key yet (a fresh clone of an example) most likely wants one.
      initialValues: current.keyedProviders.includes(current.name) || keyOptional(current) ? [] : ['key'],
      required: false,
    }),
  );
  const request: SetupRequest = { llm: null, apiKey: null, template: null, brief: {}, port: null };
  if (changes.includes('llm')) {
    const entry = await askProviderEntry({ choice: currentChoice(current), baseUrl: current.baseUrl });
    const needsKey = !current.keyedProviders.includes(entry.name) && !keyOptional(entry);
    if (changes.includes('key') || needsKey) request.apiKey = await askKey(entry);
    // The same provider again offers its current model; another one its default.
    request.llm = {
      ...entry,
      model: await askModel(entry.choice, entry.name === current.name ? current.model : undefined),
    };
  } else if (changes.includes('key')) {
    request.apiKey = await askKey({ ...current, choice: currentChoice(current) });
  }
  if (changes.includes('brief')) request.brief = await askBrief(brief);
  if (changes.includes('template'))
    request.template = await askTemplate(templates, "Which template's agents should be added?");
  return request;
}

/** After the server said it has no such model: pick one of those it offers (the other answers stay). */
export async function askOfferedModel(offered: readonly string[]): Promise<string> {
  return answered(
    await select<string>({
      message: 'Which of the models the server offers?',
      options: offered.map((id) => ({ value: id, label: id })),
    }),
  );
}

export async function askYesNo(message: string, initialValue: boolean): Promise<boolean> {
  return answered(await confirm({ message, initialValue }));
}
