// legion logs [--agent A] [--follow]: the mesh's event log (blackboard writes,
// publishes, deliveries, messages, denials), one line per event.
import type { Command } from 'commander';
import { EventListSchema, type EventEntry } from '../../shared/wire/events.js';
import { MeshClient } from '../mesh-client.js';
import { commandAction, projectDir } from '../run.js';

export function formatEvent(event: EventEntry): string {
  const detail = event.detail === null ? '' : ` ${JSON.stringify(event.detail)}`;
  const trace = event.trace ? ` trace=${event.trace}` : '';
  return `${event.at} ${(event.agent ?? '-').padEnd(12)} ${event.kind.padEnd(18)} ${event.subject}${detail}${trace}`;
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('print the event log: blackboard writes, publishes, deliveries, messages, denials')
    .option('--agent <name>', 'only events of this agent')
    .option('-n, --lines <n>', 'how many recent events to print first', '50')
    .option('-f, --follow', 'keep printing new events until Ctrl-C')
    .action(
      commandAction(async (options: { agent?: string; lines: string; follow?: boolean }) => {
        const client = MeshClient.connect(projectDir());
        const agent = options.agent ? `&agent=${encodeURIComponent(options.agent)}` : '';
        const first = await client.requestJson(
          'GET',
          `/api/events?limit=${Number(options.lines) || 50}${agent}`,
          EventListSchema,
        );
        for (const event of first.events) process.stdout.write(`${formatEvent(event)}\n`);
        let last = first.last_id;
        while (options.follow) {
          const next = await client.requestJson('GET', `/api/events?after=${last}&wait_s=25${agent}`, EventListSchema);
          for (const event of next.events) process.stdout.write(`${formatEvent(event)}\n`);
          last = next.last_id;
        }
      }),
    );
}
