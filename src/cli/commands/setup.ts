// legion setup: makes a directory a legion project, by questions in a terminal (the
// wizard) or from flags (--yes, for scripts), then builds the agent image. The order is
// fixed so a failure leaves nothing half done: answers, template lookup, the provider
// check (one real call), every file rendered and validated, then the writes (each
// atomic), then the image. On a project that exists it changes only what was asked.
// The API key is never printed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { intro, log, outro, spinner } from '@clack/prompts';
import type { Command } from 'commander';
import Docker from 'dockerode';
import { apiKeyVariable, baseUrlVariable, resolveProviders } from '../../shared/config/providers.js';
import { assertDockerReachable, buildImage, imageExists, imageSpec, imageTag } from '../../mesh/host.js';
import { isProjectDir, loadProject, PROJECT_FILES, providerKind, type Project } from '../../shared/config/project.js';
import { LegionError } from '../../shared/errors.js';
import { commandAction, projectDir } from '../run.js';
import { listTemplates, loadTemplate, type Template } from '../templates/index.js';
import {
  givenValueFlags,
  PROVIDER_CHOICES,
  requestChangesSomething,
  requestFromFlags,
  type CurrentLlm,
  type ProjectBrief,
  type SetupFlags,
  type SetupRequest,
} from '../setup/answers.js';
import { checkProvider, type CheckTarget } from '../setup/provider-check.js';
import {
  projectSection,
  renderMeshYaml,
  updateEnv,
  updateGitignore,
  updateMeshYaml,
  updateProjectMd,
} from '../setup/render.js';
import { commitPlan, planSetup, type SetupPlan } from '../setup/write.js';
import { agentsPinnedTo, describePinned, unpinAgents } from '../setup/pinned.js';
import { askExistingProject, askNewProject, askOfferedModel, askYesNo } from '../setup/wizard.js';

export const SETUP_YES_EXAMPLE = 'legion setup --yes --provider openai --api-key-env OPENAI_API_KEY';

interface ExistingProject {
  current: CurrentLlm;
  /** The current provider's base URL as the mesh would call it (overrides applied). */
  resolvedBaseUrl: string;
  keys: ReadonlyMap<string, string>;
  brief: ProjectBrief;
  project: Project;
}

function readExisting(dir: string): ExistingProject {
  const project = loadProject(dir);
  const [name = '', ...rest] = project.mesh.llm.default_model.split('/');
  const providers = resolveProviders(project);
  const keys = new Map<string, string>();
  for (const provider of providers.values()) if (provider.apiKey !== null) keys.set(provider.name, provider.apiKey);
  const projectMdPath = join(dir, PROJECT_FILES.project);
  const projectMd = existsSync(projectMdPath) ? readFileSync(projectMdPath, 'utf8') : '';
  return {
    current: {
      name,
      kind: providerKind(project.mesh, name),
      baseUrl: project.mesh.llm.providers[name]?.base_url ?? null,
      model: rest.join('/'),
      keyedProviders: [...keys.keys()],
    },
    resolvedBaseUrl: providers.get(name)?.baseUrl ?? '',
    keys,
    brief: {
      building: projectSection(projectMd, 'What we are building') ?? undefined,
      priority: projectSection(projectMd, 'Current priority') ?? undefined,
      constraints: projectSection(projectMd, 'Hard constraints') ?? undefined,
    },
    project,
  };
}

/** What to call to check the provider the request leaves configured, or null when the
 *  request changes neither the provider nor its key. */
function checkTarget(request: SetupRequest, existing: ExistingProject | null): CheckTarget | null {
  if (request.llm !== null) {
    const { name, kind, model } = request.llm;
    // LEGION_<NAME>_BASE_URL overrides the base URL at run time (see providers.ts), so the check honours it too.
    const baseUrl = request.llm.baseUrl ?? (process.env[baseUrlVariable(name)] || null);
    return { name, kind, baseUrl, model, apiKey: request.apiKey ?? existing?.keys.get(name) ?? null };
  }
  if (request.apiKey !== null && existing !== null) {
    const { name, kind, model } = existing.current;
    return { name, kind, baseUrl: existing.resolvedBaseUrl, model, apiKey: request.apiKey };
  }
  return null;
}

function renderPlan(
  dir: string,
  request: SetupRequest,
  existing: ExistingProject | null,
  unpin: readonly string[],
): SetupPlan {
  const read = (path: string) => (existsSync(join(dir, path)) ? readFileSync(join(dir, path), 'utf8') : null);
  const providerName = request.llm?.name ?? existing?.current.name ?? '';
  let meshYaml: string | null = null;
  if (existing === null) {
    if (request.llm === null) throw new LegionError('setup_incomplete', 'a new project needs a provider');
    meshYaml = renderMeshYaml(request.llm, request.port);
  } else if (request.llm !== null || request.port !== null) {
    meshYaml = updateMeshYaml(read(PROJECT_FILES.mesh) ?? '', { llm: request.llm, port: request.port });
  }
  const { building, priority, constraints } = request.brief;
  const briefGiven = building !== undefined || priority !== undefined || constraints !== undefined;
  const currentProjectMd = read(PROJECT_FILES.project);
  const projectMd = briefGiven || currentProjectMd === null ? updateProjectMd(currentProjectMd, request.brief) : null;
  const currentEnv = read(PROJECT_FILES.env);
  // A new project always gets its .env (mode 0600 from the start), with a key or without.
  const env =
    request.apiKey !== null || currentEnv === null
      ? updateEnv(currentEnv, apiKeyVariable(providerName), request.apiKey)
      : null;
  let template: { template: Template; model?: string } | null = null;
  if (request.template !== null) {
    const loaded = loadTemplate(request.template);
    // A template agent that names its own model would bypass the provider chosen here.
    const pinsModels = loaded.agents.some((agent) => agent.model !== undefined);
    template = pinsModels
      ? { template: loaded, model: `${providerName}/${request.llm?.model ?? existing?.current.model ?? ''}` }
      : { template: loaded };
  }
  const agentsYaml = unpin.length > 0 ? unpinAgents(read(PROJECT_FILES.agents) ?? '', unpin) : null;
  return planSetup({
    dir,
    meshYaml,
    agentsYaml,
    projectMd,
    env,
    gitignore: updateGitignore(read('.gitignore')),
    template,
  });
}

function describePlan(plan: SetupPlan, unpin: readonly string[]): string[] {
  const lines = plan.files.map(
    (f) => `${f.replaces ? 'update' : 'create'} ${f.path}${f.path === PROJECT_FILES.env ? ' (mode 0600)' : ''}`,
  );
  if (unpin.length > 0)
    lines.push(`agents that now follow llm.default_model (their model: line removed): ${unpin.join(', ')}`);
  if (plan.agentsAdded.length > 0) lines.push(`agents added: ${plan.agentsAdded.join(', ')}`);
  if (plan.agentsKept.length > 0)
    lines.push(`agents already configured, kept as they are: ${plan.agentsKept.join(', ')}`);
  return lines;
}

async function buildAgentImage(dir: string, write: (line: string) => void): Promise<void> {
  try {
    const spec = imageSpec(loadProject(dir));
    const docker = new Docker();
    await assertDockerReachable(docker);
    const tag = imageTag(spec);
    if (await imageExists(docker, tag)) write('agent image is up to date');
    else await buildImage(docker, spec, write);
    write(`agent image ${tag}`);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new LegionError(
      'image_build_failed',
      `the project is set up, but the agent image could not be built: ${reason}\nFix that, then run \`legion image build\` (or \`legion start\`, which builds it too).`,
    );
  }
}

interface Output {
  info: (line: string) => void;
  check: (target: CheckTarget) => Promise<void>;
  done: (message: string) => void;
}

/** The wizard's model is not on the server: it asks again from `offered`, keeping every other answer. */
class UnknownModel extends LegionError {
  constructor(
    message: string,
    readonly offered: string[],
  ) {
    super('provider_check_failed', message);
  }
}

function checkFailed(message: string): LegionError {
  return new LegionError('provider_check_failed', `${message}\nNothing was written.`);
}

const plainOutput: Output = {
  info: (line) => process.stdout.write(`${line}\n`),
  check: async (target) => {
    process.stdout.write(`checking ${target.name}...\n`);
    const result = await checkProvider(target);
    if (!result.ok) throw checkFailed(result.message);
    process.stdout.write(`${result.detail}\n`);
  },
  done: (message) => process.stdout.write(`${message}\n`),
};

const wizardOutput: Output = {
  info: (line) => log.info(line),
  check: async (target) => {
    const progress = spinner();
    progress.start(`Checking ${target.name} with one call`);
    const result = await checkProvider(target);
    if (!result.ok) {
      progress.error('The check failed');
      if (result.failure === 'unknown_model' && result.offered !== undefined && result.offered.length > 0)
        throw new UnknownModel(result.message, result.offered);
      throw checkFailed(result.message);
    }
    progress.stop(result.detail);
  },
  done: (message) => outro(message),
};

/**
 * When the provider changes, the agents pinned to the old one: the wizard shows them and
 * asks; --yes takes those that pinned the old default (they meant "the default") and
 * names the others, which keep their model.
 */
async function agentsToUnpin(
  request: SetupRequest,
  existing: ExistingProject | null,
  interactive: boolean,
): Promise<string[]> {
  if (request.llm === null || existing === null || request.llm.name === existing.current.name) return [];
  const old = existing.current;
  const pinned = agentsPinnedTo(existing.project, old.name);
  if (pinned.length === 0) return [];
  const next = `${request.llm.name}/${request.llm.model}`;
  if (interactive) {
    log.message(
      [`These agents name a model of ${old.name} themselves:`, ...pinned.map((a) => `  ${describePinned(a)}`)].join(
        '\n',
      ),
    );
    const move = await askYesNo(
      `Switch them to the new default ${next}? (their model: line is removed, so they follow llm.default_model)`,
      true,
    );
    return move ? pinned.map((a) => a.name) : [];
  }
  const oldDefault = `${old.name}/${old.model}`;
  return pinned.filter((a) => a.model === oldDefault).map((a) => a.name);
}

/** After the write, the agents still on the old provider, with their line as it is now. */
function reportStillPinned(dir: string, request: SetupRequest, existing: ExistingProject | null, output: Output): void {
  if (request.llm === null || existing === null || request.llm.name === existing.current.name) return;
  const old = existing.current.name;
  for (const agent of agentsPinnedTo(loadProject(dir), old))
    output.info(`kept, still on ${old}: ${describePinned(agent)}; change or remove that line if ${old} has no key`);
}

export interface SetupRun {
  flags: SetupFlags;
  /** Building the image: ask in the wizard, or never (legion start builds it anyway). */
  image: 'default' | 'never';
}

function hasTerminal(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true;
}

async function shouldBuildImage(run: SetupRun, interactive: boolean): Promise<boolean> {
  if (run.image === 'never' || run.flags.skipImage === true) return false;
  return interactive ? askYesNo('Build the agent image now? (a few minutes the first time)', true) : true;
}

/** Runs setup in `dir`; returns false when it changed nothing. */
export async function runSetup(dir: string, run: SetupRun): Promise<boolean> {
  const { flags } = run;
  const interactive = flags.yes !== true;
  if (interactive) {
    const given = givenValueFlags(flags);
    if (given.length > 0)
      throw new LegionError(
        'invalid_flag',
        `${given.join(', ')} ${given.length === 1 ? 'needs' : 'need'} --yes (without --yes, legion setup asks its questions instead)`,
      );
    if (!hasTerminal()) {
      throw new LegionError(
        'no_terminal',
        `legion setup asks its questions in an interactive terminal, and there is none here; in a script pass the answers as flags, for example: ${SETUP_YES_EXAMPLE}`,
      );
    }
  }
  const existing = isProjectDir(dir) ? readExisting(dir) : null;
  const output = interactive ? wizardOutput : plainOutput;
  let request: SetupRequest;
  if (interactive) {
    intro('legion setup');
    const templates = listTemplates();
    request =
      existing === null
        ? await askNewProject(templates)
        : await askExistingProject(existing.current, existing.brief, templates);
  } else {
    request = requestFromFlags(flags, existing?.current ?? null, process.env);
  }
  if (!requestChangesSomething(request)) {
    output.done(
      `nothing to change: ${PROJECT_FILES.mesh} exists and nothing was asked to change${interactive ? '' : ` (flags: --provider ${PROVIDER_CHOICES.join('|')}, --base-url, --api-key, --api-key-env, --model, --template, --project, --priority, --constraints, --port)`}`,
    );
    return false;
  }
  // An unknown template is an error before any call or write.
  if (request.template !== null) loadTemplate(request.template);
  for (let target = checkTarget(request, existing); target !== null; ) {
    try {
      await output.check(target);
      break;
    } catch (err) {
      if (!(err instanceof UnknownModel) || request.llm === null) throw err;
      log.warn(err.message);
      request.llm = { ...request.llm, model: await askOfferedModel(err.offered) };
      target = checkTarget(request, existing);
    }
  }
  const unpin = await agentsToUnpin(request, existing, interactive);
  const plan = renderPlan(dir, request, existing, unpin);
  if (plan.files.length === 0) {
    output.done('nothing to change: the project already has exactly that');
    return false;
  }
  if (interactive && existing !== null) {
    log.message(describePlan(plan, unpin).join('\n'));
    if (!(await askYesNo('Write these changes?', true))) {
      output.done('nothing was written');
      return false;
    }
  }
  // Asked before the writes, so that Ctrl-C here too leaves nothing written.
  const build = await shouldBuildImage(run, interactive);
  commitPlan(dir, plan);
  for (const line of describePlan(plan, unpin)) output.info(line);
  reportStillPinned(dir, request, existing, output);
  if (build) await buildAgentImage(dir, (line) => process.stdout.write(`${line}\n`));
  output.done(
    existing !== null
      ? 'legion project updated'
      : run.image === 'never'
        ? 'legion project ready: starting it'
        : 'legion project ready: run `legion start`',
  );
  return true;
}

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description(
      'make this directory a legion project (or change one): provider, key, model, PROJECT.md, a team template, the agent image',
    )
    .option('-y, --yes', 'no questions: take the answers from the flags (for scripts)')
    .option('--provider <provider>', `the LLM provider: ${PROVIDER_CHOICES.join(', ')}`)
    .option(
      '--base-url <url>',
      'the provider base URL (required with openai-compatible, e.g. http://127.0.0.1:11434/v1)',
    )
    .option('--api-key <key>', 'the API key, stored in .env (visible in the process list: prefer --api-key-env)')
    .option('--api-key-env <var>', 'read the API key from this environment variable')
    .option(
      '--model <model>',
      'the default model, without the provider prefix (default: gpt-4o-mini, claude-haiku-4-5 or llama3.1)',
    )
    .option('--template <name>', 'the team template (default starter on a new project; see legion templates)')
    .option('--project <text>', 'PROJECT.md: what the project is building')
    .option('--priority <text>', "PROJECT.md: the project's current priority")
    .option('--constraints <text>', "PROJECT.md: the project's hard constraints")
    .option('--port <port>', 'the mesh port in config/mesh.yaml (default 8420; the egress proxy takes the next one)')
    .option('--skip-image', 'do not build the agent image (legion start builds it when missing)')
    .action(
      commandAction(async (flags: SetupFlags) => {
        await runSetup(projectDir(), { flags, image: 'default' });
      }),
    );
}

/** `legion start` in a directory without config/mesh.yaml: offers the wizard in a
 *  terminal, else names the command to run. Returns once the directory is a project. */
export async function ensureProject(dir: string): Promise<void> {
  if (isProjectDir(dir)) return;
  const howTo = `run \`legion setup\` here (it asks a few questions), or in a script \`${SETUP_YES_EXAMPLE}\` (see docs/setup.md)`;
  const notAProject = new LegionError(
    'not_a_project',
    `no ${PROJECT_FILES.mesh} in ${dir}: this is not a legion project yet; ${howTo}`,
  );
  if (!hasTerminal()) throw notAProject;
  if (!(await askYesNo(`No legion project here (no ${PROJECT_FILES.mesh}). Set one up now?`, true))) throw notAProject;
  // legion start builds the image itself, with its progress.
  const changed = await runSetup(dir, { flags: {}, image: 'never' });
  if (!changed || !isProjectDir(dir)) throw notAProject;
}
