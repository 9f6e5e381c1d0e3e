// legion chat <agent> [-m text]: chat with one agent of a running fleet from any
// terminal. With -m: one message, the reply on stdout, tool activity on stderr,
// exit 0 on a reply and 1 on an error, so scripts can use it.
import type { Command } from 'commander';
import { LegionError, receivedError } from '../../shared/errors.js';
import { MeshClient } from '../mesh-client.js';
import { runRepl } from '../repl.js';
import { renderChatEvent } from '../render.js';
import { commandAction, projectDir } from '../run.js';

export function registerChat(program: Command): void {
  program
    .command('chat <agent>')
    .description('chat with an agent of the running fleet (attach from another terminal)')
    .option('-m, --message <text>', 'send one message, print the reply and exit')
    .option('--reset', 'end the current session first (as /reset does); with -m, before sending')
    .action(
      commandAction(async (agent: string, options: { message?: string; reset?: boolean }) => {
        const client = MeshClient.connect(projectDir());
        const names = (await client.status()).agents.map((a) => a.name);
        if (!names.includes(agent)) {
          throw new LegionError('unknown_agent', `no agent named "${agent}" (agents: ${names.join(', ') || 'none'})`);
        }
        if (options.reset) {
          await client.reset(agent);
          if (options.message === undefined && !process.stdin.isTTY) {
            process.stdout.write(`new session with ${agent}\n`);
            return;
          }
        }
        if (options.message === undefined) {
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
