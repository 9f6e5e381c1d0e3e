// The questions of `legion agent add` in a terminal (@clack/prompts): name, role, model,
// system prompt, daily budget; the REPL's /add asks the same ones on its own streams. It
// only asks: it returns the agent to add and touches no file. Ctrl-C at any question
// throws AgentAddCancelled, so the caller writes nothing.
import type { Readable, Writable } from 'node:stream';
import { cancel, intro, isCancel, select, text } from '@clack/prompts';
import { LegionError } from '../../shared/errors.js';
import { checkAgentName } from '../../shared/names.js';
import type { NewAgent } from '../../shared/config/agents-edit.js';
import type { Project } from '../../shared/config/project.js';

export class AgentAddCancelled extends LegionError {
  constructor() {
    super('agent_add_cancelled', 'agent add cancelled: nothing was written');
  }
}

export interface AgentAddContext {
  /** The name given on the command line, offered as the answer. */
  name: string | undefined;
  /** Agents the project has already. */
  taken: readonly string[];
  /** llm.default_model of config/mesh.yaml. */
  defaultModel: string;
  /** Models other agents use, offered besides the default. */
  models: readonly string[];
  /** Providers config/mesh.yaml knows (openai, anthropic and those under llm.providers). */
  providers: readonly string[];
}

/** What the wizard asks with; the process's terminal when left out. */
export interface WizardStreams {
  input?: Readable;
  output?: Writable;
}

/** The wizard's context for `project`: its agents, default model, models in use and providers. */
export function agentAddContext(project: Project, name: string | undefined): AgentAddContext {
  return {
    name,
    taken: Object.keys(project.agents),
    defaultModel: project.mesh.llm.default_model,
    models: [...new Set(Object.values(project.agents).flatMap((entry) => (entry.model ? [entry.model] : [])))],
    providers: projectProviders(project),
  };
}

/** openai, anthropic and those under llm.providers. */
function projectProviders(project: Project): string[] {
  return [
    'openai',
    'anthropic',
    ...Object.keys(project.mesh.llm.providers).filter((p) => p !== 'openai' && p !== 'anthropic'),
  ];
}

export function agentNameProblem(name: string, taken: readonly string[]): string | null {
  if (taken.includes(name)) return `an agent named "${name}" already exists; choose another name`;
  return checkAgentName(name);
}

export function modelProblem(model: string, providers: readonly string[]): string | null {
  const match = /^([a-z0-9][a-z0-9_-]*)\/.+$/.exec(model);
  if (!match) return 'expected "provider/model", for example openai/gpt-4o-mini';
  const provider = match[1] ?? '';
  return providers.includes(provider)
    ? null
    : `unknown provider "${provider}" (known: ${providers.join(', ')}; add it under llm.providers in config/mesh.yaml)`;
}

/** A daily budget: a non-negative number of US dollars. */
export function budgetProblem(text: string): string | null {
  return /^\d+(\.\d+)?$/.test(text.trim()) ? null : 'expected a number of US dollars, such as 5 or 2.50';
}

/** Not a model: every model is provider/model. */
const OTHER_MODEL = 'other';

export async function askNewAgent(context: AgentAddContext, streams: WizardStreams = {}): Promise<NewAgent> {
  const answered = <T>(value: T): Exclude<T, symbol> => {
    if (isCancel(value)) {
      cancel('agent add cancelled: nothing was written', streams);
      throw new AgentAddCancelled();
    }
    return value as Exclude<T, symbol>;
  };
  intro('Add an agent', streams);
  const name = answered(
    await text({
      ...streams,
      message: 'Name (lowercase letters, digits and dashes)',
      placeholder: 'researcher',
      ...(context.name === undefined ? {} : { initialValue: context.name }),
      validate: (value) => agentNameProblem((value ?? '').trim(), context.taken) ?? undefined,
    }),
  ).trim();

  const role =
    answered(
      await text({
        ...streams,
        message: `Role: what is ${name} for? (Enter for "${name}")`,
        placeholder: name,
        defaultValue: name,
      }),
    ).trim() || name;

  const others = context.models.filter((model) => model !== context.defaultModel);
  const picked = answered(
    await select<string>({
      ...streams,
      message: 'Model',
      options: [
        { value: '', label: context.defaultModel, hint: 'the project default' },
        ...others.map((model) => ({ value: model, label: model, hint: 'used by another agent' })),
        { value: OTHER_MODEL, label: 'another model…', hint: 'type provider/model' },
      ],
      initialValue: '',
    }),
  );
  const model =
    picked === OTHER_MODEL
      ? answered(
          await text({
            ...streams,
            message: 'Model (provider/model)',
            placeholder: 'openai/gpt-4o',
            validate: (value) => modelProblem((value ?? '').trim(), context.providers) ?? undefined,
          }),
        ).trim()
      : picked;

  const systemPrompt = answered(
    await text({
      ...streams,
      message: 'System prompt: instructions it always follows (Enter to skip)',
      placeholder: `You are ${name}. …`,
      defaultValue: '',
    }),
  ).trim();

  const budget = answered(
    await text({
      ...streams,
      message: 'Daily budget in USD (Enter for no limit)',
      placeholder: '5',
      defaultValue: '',
      validate: (value) => (value?.trim() ? (budgetProblem(value) ?? undefined) : undefined),
    }),
  ).trim();

  return {
    name,
    role,
    ...(model ? { model } : {}),
    ...(systemPrompt ? { system_prompt: systemPrompt } : {}),
    ...(budget ? { budget: { daily_usd: Number(budget) } } : {}),
  };
}
