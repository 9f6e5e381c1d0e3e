// The interactive chat: `legion start` (fleet mode: /quit stops the fleet) and
// `legion chat <agent>` (attach mode: /quit only leaves). Lines are handled one at a
// time; Ctrl-C interrupts the reply in progress, never the fleet.
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { MeshClient } from './mesh-client.js';
import { formatAgents, renderChatEvent } from './render.js';
import { blackboardReplCommand } from './commands/blackboard.js';
import { costsReplCommand } from './commands/costs.js';

export interface ReplOptions {
  client: MeshClient;
  mode: 'fleet' | 'attach';
  agent: string;
  input: Readable;
  output: Writable;
}

const HELP = `  @<agent> <message>  send one message to an agent
  <message>           send to the current agent
  /use <agent>        make <agent> the current agent
  /broadcast <msg>    send to every agent at once; replies print as they arrive
  /blackboard [prefix] list shared state; /blackboard get <key> shows one entry
  /costs [period] [agent] LLM spending and budgets; period: today, week or month
  /agents             list agents and their health
  /status             fleet status
  /reset              start a new session with the current agent
  /correct <text>     record a correction for the current agent; its later sessions see it
  /help               this help
  /quit               %QUIT%
  Ctrl-C              interrupt the reply in progress`;

/** What a typed line asks for; pure, so it is tested directly. */
export type ReplAction =
  | { kind: 'empty' }
  | { kind: 'chat'; agent: string | null; message: string }
  | { kind: 'use'; agent: string }
  | { kind: 'broadcast'; message: string }
  | { kind: 'blackboard'; args: string[] }
  | { kind: 'costs'; args: string[] }
  | { kind: 'agents' }
  | { kind: 'status' }
  | { kind: 'reset' }
  | { kind: 'correct'; text: string }
  | { kind: 'help' }
  | { kind: 'quit' }
  | { kind: 'unknown'; text: string };

export function parseReplLine(line: string): ReplAction {
  const text = line.trim();
  if (!text) return { kind: 'empty' };
  const mention = /^@([a-z][a-z0-9-]*)\s+([\s\S]+)$/.exec(text);
  if (mention?.[1] && mention[2]) return { kind: 'chat', agent: mention[1], message: mention[2].trim() };
  if (!text.startsWith('/')) return { kind: 'chat', agent: null, message: text };
  const [command, ...rest] = text.slice(1).split(/\s+/);
  switch (command) {
    case 'use':
      return rest[0] ? { kind: 'use', agent: rest[0] } : { kind: 'unknown', text: '/use needs an agent name: /use <agent>' };
    case 'broadcast': {
      const message = text.slice('/broadcast'.length).trim();
      return message ? { kind: 'broadcast', message } : { kind: 'unknown', text: '/broadcast needs a message: /broadcast <message>' };
    }
    case 'blackboard':
      return { kind: 'blackboard', args: rest };
    case 'costs':
      return { kind: 'costs', args: rest };
    case 'agents':
      return { kind: 'agents' };
    case 'status':
      return { kind: 'status' };
    case 'reset':
      return { kind: 'reset' };
    case 'correct': {
      const correction = text.slice('/correct'.length).trim();
      return correction ? { kind: 'correct', text: correction } : { kind: 'unknown', text: '/correct needs the correction: /correct <text>' };
    }
    case 'help':
      return { kind: 'help' };
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    default:
      return { kind: 'unknown', text: `unknown command /${command ?? ''}; /help lists the commands` };
  }
}

export async function runRepl(options: ReplOptions): Promise<void> {
  const { client, output } = options;
  const write = (text: string) => output.write(text);
  let current = options.agent;
  let inFlight: AbortController | null = null;
  const rl: Interface = createInterface({ input: options.input, output, terminal: 'isTTY' in options.input && options.input.isTTY === true });
  const prompt = () => {
    rl.setPrompt(`${current}> `);
    rl.prompt();
  };
  const interrupt = () => {
    if (inFlight) {
      inFlight.abort();
      write('\n(reply interrupted)\n');
    } else if (options.mode === 'fleet') {
      write('\n(the fleet keeps running; /quit stops it)\n');
      prompt();
    } else {
      rl.close();
    }
  };
  rl.on('SIGINT', interrupt);
  const onProcessSigint = () => interrupt();
  process.on('SIGINT', onProcessSigint);

  const agents = async () => (await client.status()).agents;
  write(`legion: talking to ${current}. /help lists commands.\n`);
  prompt();
  try {
    for await (const line of rl) {
      const action = parseReplLine(line);
      try {
        if (action.kind === 'quit') break;
        await handle(action);
      } catch (err) {
        write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      }
      prompt();
    }
  } finally {
    process.off('SIGINT', onProcessSigint);
    rl.close();
  }

  async function handle(action: Exclude<ReplAction, { kind: 'quit' }>): Promise<void> {
    switch (action.kind) {
      case 'empty':
        return;
      case 'help':
        write(`${HELP.replace('%QUIT%', options.mode === 'fleet' ? 'stop the fleet and leave' : 'leave (the fleet keeps running)')}\n`);
        return;
      case 'unknown':
        write(`${action.text}\n`);
        return;
      case 'agents':
      case 'status':
        write(`${formatAgents(await agents())}\n`);
        return;
      case 'use': {
        const names = (await agents()).map((a) => a.name);
        if (!names.includes(action.agent)) {
          write(`no agent named "${action.agent}" (agents: ${names.join(', ')})\n`);
          return;
        }
        current = action.agent;
        write(`now talking to ${current}\n`);
        return;
      }
      case 'broadcast': {
        const names = (await agents()).filter((a) => a.health === 'healthy').map((a) => a.name);
        inFlight = new AbortController();
        const signal = inFlight.signal;
        write(`broadcasting to ${names.join(', ')}\n`);
        try {
          await Promise.all(
            names.map(async (agent) => {
              const last = await client.chat(agent, action.message, () => undefined, signal).catch((err: unknown) => {
                if (!signal.aborted) write(`[${agent}] error: ${err instanceof Error ? err.message : String(err)}\n`);
                return null;
              });
              if (last?.type === 'done') write(`[${agent}] ${last.reply}\n`);
              else if (last?.type === 'error') write(`[${agent}] error: ${last.error.message}\n`);
            }),
          );
        } finally {
          inFlight = null;
        }
        return;
      }
      case 'blackboard':
        write(`${await blackboardReplCommand(client, action.args)}\n`);
        return;
      case 'costs':
        write(`${await costsReplCommand(client, action.args)}\n`);
        return;
      case 'reset':
        await client.reset(current);
        write(`new session with ${current}\n`);
        return;
      case 'correct': {
        const recorded = await client.correct(current, action.text);
        write(`noted for ${current} in ${recorded.file} (${recorded.entries} on file); its next session will see it\n`);
        return;
      }
      case 'chat': {
        const agent = action.agent ?? current;
        inFlight = new AbortController();
        if (action.agent) write(`[${agent}] `);
        try {
          await client.chat(agent, action.message, (event) => renderChatEvent(event, { reply: write, activity: write }), inFlight.signal);
        } catch (err) {
          if (!inFlight.signal.aborted) throw err;
        } finally {
          inFlight = null;
        }
        return;
      }
    }
  }
}
