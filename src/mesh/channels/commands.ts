// What a paired user's message asks for, as in the REPL: `@agent text` addresses
// another agent, `/use agent` switches, `/agents`, `/status`, `/reset`, `/costs`,
// `/help`; anything else goes to the current agent. Pure. Telegram may suffix a command
// with the bot's name in groups (/status@legion_bot), which is ignored.

export type ChannelAction =
  | { kind: 'chat'; agent: string | null; text: string }
  | { kind: 'use'; agent: string }
  | { kind: 'agents' }
  | { kind: 'status' }
  | { kind: 'reset' }
  | { kind: 'costs' }
  | { kind: 'help' }
  | { kind: 'unknown'; text: string };

export const CHANNEL_HELP = [
  'Write to talk to your current agent.',
  '@agent text: send one message to another agent',
  '/use agent: switch agents',
  '/agents: the agents you can talk to',
  '/status: how they are doing',
  '/reset: start a new conversation with the current agent',
  '/costs: what the current agent spent today',
].join('\n');

export function parseChannelText(input: string): ChannelAction {
  const text = input.trim();
  const mention = /^@([a-z][a-z0-9-]*)\s+([\s\S]+)$/.exec(text);
  if (mention?.[1] && mention[2]) return { kind: 'chat', agent: mention[1], text: mention[2].trim() };
  if (!text.startsWith('/')) return { kind: 'chat', agent: null, text };
  const [head = '', ...rest] = text.slice(1).split(/\s+/);
  const command = head.replace(/@\w+$/, '').toLowerCase();
  switch (command) {
    case 'use':
      return rest[0]
        ? { kind: 'use', agent: rest[0] }
        : { kind: 'unknown', text: '/use needs an agent name: /use <agent>' };
    case 'agents':
      return { kind: 'agents' };
    case 'status':
      return { kind: 'status' };
    case 'reset':
      return { kind: 'reset' };
    case 'costs':
      return { kind: 'costs' };
    case 'help':
    case 'start':
      return { kind: 'help' };
    default:
      return { kind: 'unknown', text: `unknown command /${command}; /help lists the commands` };
  }
}
