// legion channels pair <code> [--agents a,b] | users | revoke <user>: who may talk to
// agents through Telegram and Discord. A user who writes to the bot gets a one-time
// code; pairing it approves them for those agents (every agent without --agents).
import type { Command } from 'commander';
import {
  ChannelUserListSchema,
  ChannelUserSchema,
  RevokeResponseSchema,
  type ChannelUser,
} from '../../shared/wire/channels.js';
import { MeshClient } from '../mesh-client.js';
import { commandAction, projectDir } from '../run.js';

function formatUser(user: ChannelUser): string {
  return `${user.user.padEnd(24)} ${user.name.padEnd(20)} agents: ${user.agents.join(', ')} (now: ${user.current_agent}) paired ${user.paired_at}`;
}

export function registerChannels(program: Command): void {
  const channels = program.command('channels').description('Telegram and Discord users paired with agents');
  channels
    .command('pair <code>')
    .description('approve the user who got <code> from the bot')
    .option('--agents <list>', 'comma-separated agents the user may talk to (default: all)')
    .action(
      commandAction(async (code: string, options: { agents?: string }) => {
        const agents = options.agents
          ?.split(',')
          .map((agent) => agent.trim())
          .filter((agent) => agent !== '');
        const user = await MeshClient.connect(projectDir()).requestJson(
          'POST',
          '/api/channels/pair',
          ChannelUserSchema,
          { code, ...(agents ? { agents } : {}) },
        );
        process.stdout.write(`paired ${user.user} (${user.name}) with ${user.agents.join(', ')}\n`);
      }),
    );
  channels
    .command('users')
    .description('list paired users')
    .action(
      commandAction(async () => {
        const { users } = await MeshClient.connect(projectDir()).requestJson(
          'GET',
          '/api/channels/users',
          ChannelUserListSchema,
        );
        process.stdout.write(users.length === 0 ? 'no paired users\n' : `${users.map(formatUser).join('\n')}\n`);
      }),
    );
  channels
    .command('revoke <user>')
    .description('remove a paired user (platform:id as `users` lists it, or their name); nothing more reaches them')
    .action(
      commandAction(async (user: string) => {
        const { revoked } = await MeshClient.connect(projectDir()).requestJson(
          'DELETE',
          `/api/channels/users/${encodeURIComponent(user)}`,
          RevokeResponseSchema,
        );
        process.stdout.write(`revoked ${revoked}\n`);
      }),
    );
}
