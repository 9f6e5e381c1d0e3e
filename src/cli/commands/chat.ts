// legion chat <agent> [-m text]: chat with one agent of a running fleet from any
// terminal. With -m: one message, the reply on stdout, tool activity on stderr,
// exit 0 on a reply and 1 on an error, so scripts can use it. With --history: the
// agent's recent turns of any origin (chat, channels, cron, heartbeats, webhooks,
// watchers, pub/sub, messages, workflow steps), whether or not the agent runs.
import type { Command } from 'commander';
import { LegionError, receivedError } from '../../shared/errors.js';
import { HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT } from '../../shared/wire/history-limits.js';
import { formatHistory } from '../history-view.js';
import { MeshClient } from '../mesh-client.js';
import { renderChatEvent } from '../render.js';
import { commandAction, projectDir } from '../run.js';

interface ChatOptions {
  message?: string;
  reset?: boolean;
  history?: boolean;
  limit?: string;
  before?: string;
  json?: boolean;
}

function wholeNumber(flag: string, text: string, max: number): number {
  const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= max))
    throw new LegionError('invalid_option', `${flag} "${text}": expected a whole number from 1 to ${max}`);
  return value;
}

async function printHistory(agent: string, options: ChatOptions): Promise<void> {
  const clash = [options.message !== undefined && '-m', options.reset && '--reset'].filter(
    (flag) => typeof flag === 'string',
  );
  if (clash.length > 0)
    throw new LegionError('invalid_option', `${clash.join(' and ')} cannot be used with --history, which only reads`);
  const limit =
    options.limit === undefined ? HISTORY_DEFAULT_LIMIT : wholeNumber('--limit', options.limit, HISTORY_MAX_LIMIT);
  const before =
    options.before === undefined ? undefined : wholeNumber('--before', options.before, Number.MAX_SAFE_INTEGER);
  const page = await MeshClient.connect(projectDir()).history(agent, limit, before);
  process.stdout.write(options.json ? `${JSON.stringify(page, null, 2)}\n` : `${formatHistory(page)}\n`);
}

export function registerChat(program: Command): void {
  program
    .command('chat <agent>')
    .description('chat with an agent of the running fleet (attach from another terminal), or list its recent turns')
    .option('-m, --message <text>', 'send one message, print the reply and exit')
    .option('--reset', 'end the current session first (as /reset does); with -m, before sending')
    .option(
      '--history',
      "list the agent's recent turns of any origin (chat, channels, cron, heartbeats, webhooks, watchers, pub/sub, messages, workflow steps), newest last",
    )
    .option(
      '--limit <n>',
      `with --history: how many turns (default ${HISTORY_DEFAULT_LIMIT}, at most ${HISTORY_MAX_LIMIT})`,
    )
    .option(
      '--before <cursor>',
      'with --history: turns older than this cursor (printed above a page that has older turns)',
    )
    .option('--json', 'with --history: print the turns as JSON, newest first, with their full texts')
    .action(
      commandAction(async (agent: string, options: ChatOptions) => {
        if (options.history) return printHistory(agent, options);
        const orphans = [
          options.limit !== undefined && '--limit',
          options.before !== undefined && '--before',
          options.json && '--json',
        ].filter((flag) => typeof flag === 'string');
        if (orphans.length > 0)
          throw new LegionError(
            'invalid_option',
            `${orphans.join(', ')} only go${orphans.length === 1 ? 'es' : ''} with --history`,
          );
        const client = MeshClient.connect(projectDir());
        // With -m the mesh's own answer names an unknown agent (and the agents there are),
        // so only the REPL, which would otherwise open on nobody, asks first.
        if (options.message === undefined) {
          const names = (await client.status()).agents.map((a) => a.name);
          if (!names.includes(agent)) {
            throw new LegionError('unknown_agent', `no agent named "${agent}" (agents: ${names.join(', ') || 'none'})`);
          }
        }
        if (options.reset) {
          await client.reset(agent);
          if (options.message === undefined && !process.stdin.isTTY) {
            process.stdout.write(`new session with ${agent}\n`);
            return;
          }
        }
        if (options.message === undefined) {
          // Loaded here: the REPL pulls in every command it offers, which `-m` never needs.
          const { runRepl } = await import('../repl.js');
          await runRepl({ client, mode: 'attach', agent, input: process.stdin, output: process.stdout });
          return;
        }
        if (!options.message.trim()) throw new LegionError('invalid_message', 'the message given with -m is empty');
        const last = await client.chat(agent, options.message, (event) =>
          renderChatEvent(event, {
            reply: (text) => process.stdout.write(text),
            activity: (text) => (event.type === 'error' ? undefined : process.stderr.write(text)),
          }),
        );
        if (last.type === 'error') throw receivedError(last.error, 'mesh_error');
      }),
    );
}
