// legion agent add|list|remove|adopt-volume. With a running fleet the mesh edits
// config/agents.yaml and starts or stops the container at once; without one the
// file is edited here and the change applies at the next `legion start`. `agent add`
// asks its questions in a terminal when given no option (wizard/agent-add.ts), and
// adds a team template's agents with --template (templates/). An agent's data (its
// project volume) goes only with `remove --purge`; adopt-volume copies a volume of an
// earlier legion into the project's (mesh/runtime/volumes.ts).
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { projectId } from '../../shared/state.js';
import { LegionError } from '../../shared/errors.js';
import { loadProject, agentModel, type Project } from '../../shared/config/project.js';
import { addAgentToConfig, removeAgentFromConfig, type NewAgent } from '../../shared/config/agents-edit.js';
import { MeshClient } from '../mesh-client.js';
import { formatAgents, formatTable } from '../render.js';
import { commandAction, projectDir } from '../run.js';
import { loadTemplate, planTemplate, writePlannedFiles, type TemplatePlan } from '../templates/index.js';
import {
  AgentAddCancelled,
  agentAddContext,
  agentNameProblem,
  askNewAgent,
  budgetProblem,
  modelProblem,
} from '../wizard/agent-add.js';

async function runningClient(dir: string): Promise<MeshClient | null> {
  const client = MeshClient.find(dir);
  return client && (await client.alive()) ? client : null;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

interface AddOptions {
  role?: string;
  model?: string;
  systemPrompt?: string;
  budgetDaily?: string;
  template?: string;
}

const USAGE = 'legion agent add <name> [--role R] [--model provider/model] [--system-prompt S] [--budget-daily USD]';

/** The agent to add: from the options, or from the wizard in a terminal when none is given. */
async function newAgentFrom(project: Project, name: string | undefined, options: AddOptions): Promise<NewAgent> {
  const context = agentAddContext(project, name);
  const { taken, providers } = context;
  const flagged =
    options.role !== undefined ||
    options.model !== undefined ||
    options.systemPrompt !== undefined ||
    options.budgetDaily !== undefined;
  if (!flagged && process.stdin.isTTY && process.stdout.isTTY) return askNewAgent(context);
  if (name === undefined) {
    throw new LegionError('missing_name', `no agent name given, and no terminal to ask in: ${USAGE}`);
  }
  const problem = agentNameProblem(name, taken);
  if (problem) throw new LegionError(taken.includes(name) ? 'agent_exists' : 'invalid_name', problem);
  // A malformed model is left to the agents.yaml check, which names the key path.
  const modelError =
    options.model !== undefined && /^[a-z0-9][a-z0-9_-]*\//.test(options.model)
      ? modelProblem(options.model, providers)
      : null;
  if (modelError) throw new LegionError('invalid_option', `--model "${options.model}": ${modelError}`);
  const budget = options.budgetDaily;
  if (budget !== undefined) {
    const budgetError = budgetProblem(budget);
    if (budgetError) throw new LegionError('invalid_option', `--budget-daily "${budget}": ${budgetError}`);
  }
  return {
    name,
    role: options.role ?? name,
    model: options.model,
    system_prompt: options.systemPrompt,
    budget: budget === undefined ? undefined : { daily_usd: Number(budget) },
  };
}

/** The template's agents (all, or `only`), with their seeds, rules and workflows.
 *  Without a fleet every file is written here. With one, the seeds and rules are written
 *  first, then the mesh adds each agent (editing agents.yaml and starting it, so it
 *  starts with its seeds and rules in place), then the workflows, which name them. */
async function addFromTemplate(
  dir: string,
  templateName: string,
  only: string | undefined,
  options: AddOptions,
): Promise<void> {
  const refused = (['role', 'systemPrompt', 'budgetDaily'] as const).filter((key) => options[key] !== undefined);
  if (refused.length > 0) {
    const flags = refused.map((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new LegionError(
      'invalid_option',
      `${flags.join(', ')} cannot be used with --template: a template sets each agent's role, system prompt and budget (only --model can override it)`,
    );
  }
  const template = loadTemplate(templateName);
  const plan: TemplatePlan = planTemplate(dir, template, {
    ...(only === undefined ? {} : { only: [only] }),
    ...(options.model === undefined ? {} : { model: options.model }),
  });
  const names = plan.agents.map((agent) => agent.name);
  const client = await runningClient(dir);
  const written: string[] = [];
  if (client) {
    written.push(...writePlannedFiles(dir, [...plan.seeds, ...(plan.permissions ? [plan.permissions] : [])]));
    const added: string[] = [];
    for (const { seeds: _seeds, ...agent } of plan.agents) {
      try {
        await client.addAgent(agent);
      } catch (err) {
        const done = added.length > 0 ? `added ${added.join(', ')}; ` : '';
        throw new LegionError(
          'template_incomplete',
          `${done}adding ${agent.name} failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      added.push(agent.name);
      process.stdout.write(`added ${agent.name} (${agent.role}); its container is running\n`);
    }
    written.push(...writePlannedFiles(dir, plan.workflows));
  } else {
    written.push(
      ...writePlannedFiles(dir, [
        ...plan.seeds,
        ...(plan.permissions ? [plan.permissions] : []),
        ...plan.workflows,
        plan.agentsFile,
      ]),
    );
    process.stdout.write(
      `added ${names.join(', ')} from template ${template.name} to config/agents.yaml; ${names.length === 1 ? 'it starts' : 'they start'} with the fleet (legion start)\n`,
    );
  }
  if (written.length > 0) process.stdout.write(`wrote ${written.join(', ')}\n`);
  for (const workflow of plan.workflows) {
    const workflowName = workflow.path.replace(/^.*\//, '').replace(/\.yaml$/, '');
    process.stdout.write(
      `workflow ${workflowName}: legion workflow run ${workflowName} --input '<json>' (see ${workflow.path})\n`,
    );
  }
}

export function registerAgent(program: Command): void {
  const agent = program.command('agent').description('add, list and remove agents');

  agent
    .command('add [name]')
    .description(
      'add an agent (started at once when the fleet runs); in a terminal, without options, asks for each setting',
    )
    .option('--role <role>', 'what the agent is for (default: its name)')
    .option('--model <provider/model>', 'model, for example openai/gpt-4o-mini (default: llm.default_model)')
    .option('--system-prompt <text>', 'instructions added to its system prompt')
    .option('--budget-daily <usd>', 'the most it may spend on LLM calls per day, in USD')
    .option(
      '--template <template>',
      "add a team template's agents (legion templates lists them); with <name>, only that one",
    )
    .action(
      commandAction(async (name: string | undefined, options: AddOptions) => {
        const dir = projectDir();
        const project = loadProject(dir);
        if (options.template !== undefined) {
          await addFromTemplate(dir, options.template, name, options);
          return;
        }
        let request: NewAgent;
        try {
          request = await newAgentFrom(project, name, options);
        } catch (err) {
          // The wizard has said so already; nothing was written.
          if (!(err instanceof AgentAddCancelled)) throw err;
          process.exitCode = 1;
          return;
        }
        const client = await runningClient(dir);
        if (client) {
          await client.addAgent(request);
          process.stdout.write(`added ${request.name}; its container is running\n`);
        } else {
          addAgentToConfig(dir, request);
          process.stdout.write(
            `added ${request.name} to config/agents.yaml; it starts with the fleet (legion start)\n`,
          );
        }
      }),
    );

  agent
    .command('list')
    .description('list configured agents (with health when the fleet runs)')
    .action(
      commandAction(async () => {
        const dir = projectDir();
        const client = await runningClient(dir);
        if (client) {
          process.stdout.write(`${formatAgents((await client.status()).agents)}\n`);
          return;
        }
        const project = loadProject(dir);
        const rows = Object.entries(project.agents).map(([name, entry]) => [
          name,
          agentModel(project, name),
          entry.role,
        ]);
        process.stdout.write(
          rows.length
            ? `${formatTable([['AGENT', 'MODEL', 'ROLE'], ...rows])}\n(the fleet is not running)\n`
            : 'no agents configured\n',
        );
      }),
    );

  agent
    .command('remove <name>')
    .description('stop an agent and remove it from config/agents.yaml (its data volume is kept unless --purge)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--purge', "also delete the agent's data volume in this project (its workspace and agent.db)")
    .action(
      commandAction(async (name: string, options: { yes?: boolean; purge?: boolean }) => {
        const dir = projectDir();
        if (!loadProject(dir).agents[name])
          throw new LegionError('unknown_agent', `no agent named "${name}" in config/agents.yaml`);
        if (!options.yes) {
          if (!process.stdin.isTTY)
            throw new LegionError('confirmation_needed', `removing ${name} needs confirmation: pass --yes`);
          if (!(await confirm(options.purge ? `remove agent ${name} and delete its data?` : `remove agent ${name}?`))) {
            process.stdout.write('nothing removed\n');
            return;
          }
        }
        const client = await runningClient(dir);
        if (client) await client.removeAgent(name);
        else removeAgentFromConfig(dir, name);
        await reportData(dir, name, options.purge === true);
      }),
    );

  agent
    .command('adopt-volume <agent> <volume>')
    .description(
      "copy a Docker volume's data (such as legion_data_<agent> of an earlier legion) into this project's volume of <agent>; deletes nothing",
    )
    .action(
      commandAction(async (name: string, volume: string) => {
        const dir = projectDir();
        const project = loadProject(dir);
        if (!project.agents[name])
          throw new LegionError('unknown_agent', `no agent named "${name}" in config/agents.yaml`);
        const { adoptVolume, assertDockerReachable, buildImage, imageExists, imageSpec, imageTag } = await import(
          '../../mesh/host.js'
        );
        const docker = await dockerClient();
        await assertDockerReachable(docker);
        const spec = imageSpec(project);
        const tag = imageTag(spec);
        if (!(await imageExists(docker, tag)))
          await buildImage(docker, spec, (line) => process.stderr.write(`${line}\n`));
        const outcome = await adoptVolume(docker, tag, projectId(dir), name, volume);
        const aside = outcome.aside
          ? `; what ${outcome.target} held before is in /data/${outcome.aside} (inside the agent's /data)`
          : '';
        process.stdout.write(
          `copied ${volume} into ${outcome.target}, agent ${name}'s volume in this project${aside}; ${volume} is unchanged (docker volume rm ${volume} deletes it once you no longer need it)\n`,
        );
      }),
    );
}

/** Docker (and the mesh's host helpers, imported where used) load only in the subcommands
 *  that use Docker: `agent list` and the others only talk to the mesh and config files. */
async function dockerClient() {
  const { default: Docker } = await import('dockerode');
  return new Docker();
}

/** After a remove: deletes the agent's volume with --purge, else says where its data stays. */
async function reportData(dir: string, name: string, purge: boolean): Promise<void> {
  const { agentVolumes, assertDockerReachable, projectVolumeName, purgeAgentData } = await import('../../mesh/host.js');
  const docker = await dockerClient();
  const id = projectId(dir);
  if (purge) {
    await assertDockerReachable(docker);
    const removed = await purgeAgentData(docker, id, name);
    process.stdout.write(
      removed.length
        ? `removed ${name} and deleted its data (volume ${removed.join(', ')})\n`
        : `removed ${name}; it had no data volume in this project\n`,
    );
    return;
  }
  const kept = await agentVolumes(docker, id, name).catch(() => [projectVolumeName(id, name)]);
  const volume = kept[0] ?? projectVolumeName(id, name);
  process.stdout.write(
    `removed ${name}; its data is kept in volume ${volume} (legion agent add ${name} uses it again; legion agent remove --purge, or docker volume rm ${volume}, deletes it)\n`,
  );
}
