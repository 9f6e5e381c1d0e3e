// legion templates: the shipped team templates, each with its agents and what it is
// for. Reads templates/*.yaml only; needs no project and no running mesh.
import type { Command } from 'commander';
import { listTemplates } from '../templates/index.js';
import { formatTable } from '../render.js';
import { commandAction } from '../run.js';

export function registerTemplates(program: Command): void {
  program
    .command('templates')
    .description(
      'list the team templates (use one with legion agent add --template <name> or legion setup --template <name>)',
    )
    .option('--json', 'print them as JSON')
    .action(
      commandAction(async (options: { json?: boolean }) => {
        const templates = listTemplates();
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ templates }, null, 2)}\n`);
          return;
        }
        const rows = templates.map((t) => [t.name, t.agents.join(', '), t.description]);
        process.stdout.write(`${formatTable([['TEMPLATE', 'AGENTS', 'DESCRIPTION'], ...rows])}\n`);
        process.stdout.write(
          'add a team to this project: legion agent add --template <name> (one agent: legion agent add --template <name> <agent>)\n',
        );
      }),
    );
}
