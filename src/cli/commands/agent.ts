// legion agent add|list|remove. With a running fleet the mesh edits
// config/agents.yaml and starts or stops the container at once; without one the
// file is edited here and the change applies at the next `legion start`.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { LegionError } from '../../shared/errors.js';
import { loadProject, agentModel } from '../../shared/config/project.js';
import { addAgentToConfig, removeAgentFromConfig } from '../../shared/config/agents-edit.js';
import { checkAgentName } from '../../shared/names.js';
import { MeshClient } from '../mesh-client.js';
import { formatAgents, formatTable } from '../render.js';
import { commandAction, projectDir } from '../run.js';

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

export function registerAgent(program: Command): void {
  const agent = program.command('agent').description('add, list and remove agents');

  agent
    .command('add <name>')
    .description('add an agent (started at once when the fleet runs)')
    .option('--role <role>', 'what the agent is for (default: its name)')
    .option('--model <provider/model>', 'model, for example openai/gpt-4o-mini (default: llm.default_model)')
    .option('--system-prompt <text>', 'instructions added to its system prompt')
    .action(
      commandAction(async (name: string, options: { role?: string; model?: string; systemPrompt?: string }) => {
        const problem = checkAgentName(name);
        if (problem) throw new LegionError('invalid_name', problem, 400);
        const dir = projectDir();
        const request = { name, role: options.role ?? name, model: options.model, system_prompt: options.systemPrompt };
        const client = await runningClient(dir);
        if (client) {
          await client.addAgent(request);
          process.stdout.write(`added ${name}; its container is running\n`);
        } else {
          loadProject(dir);
          addAgentToConfig(dir, request);
          process.stdout.write(`added ${name} to config/agents.yaml; it starts with the fleet (legion start)\n`);
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
        const rows = Object.entries(project.agents).map(([name, entry]) => [name, agentModel(project, name), entry.role]);
        process.stdout.write(rows.length ? `${formatTable([['AGENT', 'MODEL', 'ROLE'], ...rows])}\n(the fleet is not running)\n` : 'no agents configured\n');
      }),
    );

  agent
    .command('remove <name>')
    .description('stop an agent and remove it from config/agents.yaml (its data volume is kept)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      commandAction(async (name: string, options: { yes?: boolean }) => {
        const dir = projectDir();
        if (!loadProject(dir).agents[name]) throw new LegionError('unknown_agent', `no agent named "${name}" in config/agents.yaml`, 404);
        if (!options.yes) {
          if (!process.stdin.isTTY) throw new LegionError('confirmation_needed', `removing ${name} needs confirmation: pass --yes`, 400);
          if (!(await confirm(`remove agent ${name}?`))) {
            process.stdout.write('nothing removed\n');
            return;
          }
        }
        const client = await runningClient(dir);
        if (client) await client.removeAgent(name);
        else removeAgentFromConfig(dir, name);
        process.stdout.write(`removed ${name}; its data volume legion_data_${name} is kept (docker volume rm legion_data_${name} deletes it)\n`);
      }),
    );
}
