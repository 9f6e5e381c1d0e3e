// The interactive chat: `legion start` (fleet mode: /quit stops the fleet) and
// `legion chat <agent>` (attach mode: /quit only leaves). Lines are handled one at a
// time; Ctrl-C interrupts the reply in progress, never the fleet.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { loadProject, PROJECT_FILES } from '../shared/config/project.js';
import type { MeshClient } from './mesh-client.js';
import { formatAgents, renderChatEvent } from './render.js';
import { blackboardReplCommand } from './commands/blackboard.js';
import { costsReplCommand } from './commands/costs.js';
import { workflowReplCommand } from './commands/workflow.js';
import { parseWorkflowReplArgs, type WorkflowReplRequest } from './workflow-view.js';
import { backgroundLine, followBackground, type BackgroundReply } from './repl-background.js';
import { ReplLines } from './repl-lines.js';
import type { NewAgent } from '../shared/config/agents-edit.js';
import { AgentAddCancelled, agentAddContext, askNewAgent } from './wizard/agent-add.js';

export interface ReplOptions {
  client: MeshClient;
  mode: 'fleet' | 'attach';
  agent: string;
  input: Readable;
  output: Writable;
  /** Where /project reads PROJECT.md; the current directory (where legion was run) otherwise. /add reads the mesh's project. */
  projectDir?: string;
}

const HELP = `  @<agent> <message>  send one message to an agent
  <message>           send to the current agent
  /use <agent>        make <agent> the current agent
  /broadcast <msg>    send to every agent at once; replies print as they arrive
  /blackboard [prefix] list shared state; /blackboard get <key> shows one entry
  /costs [period] [agent] LLM spending and budgets; period: today, week or month
  /workflow [list]    workflows; /workflow run <name> [json input] starts one and follows it,
                      /workflow status <run id>, /workflow cancel <run id>, /workflow runs
  /agents             list agents and their health
  /add [name]         add an agent (the questions of legion agent add); it starts at once
  /status             fleet status
  /reset              start a new session with the current agent
  /project            show PROJECT.md, the brief every agent reads at the start of a session
  /correct <text>     record a correction for the current agent; its later sessions see it
  /show <n>           the full text of background reply n (cron, heartbeat, webhook, pub/sub)
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
  | { kind: 'workflow'; request: WorkflowReplRequest }
  | { kind: 'agents' }
  | { kind: 'add'; name: string | undefined }
  | { kind: 'status' }
  | { kind: 'reset' }
  | { kind: 'project' }
  | { kind: 'correct'; text: string }
  | { kind: 'show'; n: number }
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
      return rest[0]
        ? { kind: 'use', agent: rest[0] }
        : { kind: 'unknown', text: '/use needs an agent name: /use <agent>' };
    case 'broadcast': {
      const message = text.slice('/broadcast'.length).trim();
      return message
        ? { kind: 'broadcast', message }
        : { kind: 'unknown', text: '/broadcast needs a message: /broadcast <message>' };
    }
    case 'blackboard':
      return { kind: 'blackboard', args: rest };
    case 'costs':
      return { kind: 'costs', args: rest };
    case 'workflow': {
      const request = parseWorkflowReplArgs(text.slice('/workflow'.length));
      return 'problem' in request ? { kind: 'unknown', text: request.problem } : { kind: 'workflow', request };
    }
    case 'agents':
      return { kind: 'agents' };
    case 'add':
      return rest.length > 1
        ? { kind: 'unknown', text: '/add takes at most a name: /add [name]; it asks for the rest' }
        : { kind: 'add', name: rest[0] };
    case 'status':
      return { kind: 'status' };
    case 'reset':
      return { kind: 'reset' };
    case 'project':
      return { kind: 'project' };
    case 'correct': {
      const correction = text.slice('/correct'.length).trim();
      return correction
        ? { kind: 'correct', text: correction }
        : { kind: 'unknown', text: '/correct needs the correction: /correct <text>' };
    }
    case 'show':
      return /^\d+$/.test(rest[0] ?? '')
        ? { kind: 'show', n: Number(rest[0]) }
        : { kind: 'unknown', text: '/show needs the number of a background reply: /show <n>' };
    case 'help':
      return { kind: 'help' };
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    default:
      return { kind: 'unknown', text: `unknown command /${command ?? ''}; /help lists the commands` };
  }
}

/** What /project prints: PROJECT.md as it is on disk now (what agents get at their next
 *  session), or how to create it when there is none. */
export function projectMdText(projectDir: string): string {
  const path = join(projectDir, PROJECT_FILES.project);
  const what =
    'what the project is building, its current priority and its hard constraints; every agent reads it at the start of its next session (/reset starts one now)';
  if (!existsSync(path)) return `no ${PROJECT_FILES.project} in ${projectDir}: create it with ${what}\n`;
  const text = readFileSync(path, 'utf8');
  if (text.trim() === '') return `${path} is empty: write in it ${what}\n`;
  return `${path} (agents read it at the start of each session):\n\n${text.endsWith('\n') ? text : `${text}\n`}`;
}

export async function runRepl(options: ReplOptions): Promise<void> {
  const { client, output } = options;
  const write = (text: string) => output.write(text);
  let current = options.agent;
  let inFlight: AbortController | null = null;
  /** What Ctrl-C says it stopped: a reply, or the following of a workflow run. */
  let interruptNote = 'reply interrupted';
  /** The /add wizard has the input: background lines wait, as during a reply. */
  let asking = false;
  const interrupt = () => {
    if (inFlight) {
      inFlight.abort();
      write(`\n(${interruptNote})\n`);
    } else if (options.mode === 'fleet') {
      write('\n(the fleet keeps running; /quit stops it)\n');
      prompt();
    } else {
      lines.close();
    }
  };
  const lines = new ReplLines({ input: options.input, output, onSigint: interrupt });
  const prompt = () => lines.prompt(`${current}> `);
  const onProcessSigint = () => interrupt();
  process.on('SIGINT', onProcessSigint);

  const agents = async () => (await client.status()).agents;
  const replies: BackgroundReply[] = [];
  const following = new AbortController();
  const held: string[] = [];
  const announce = (line: string) => {
    // While a reply streams, the line waits, so it never cuts into the agent's text.
    if (inFlight || asking) held.push(line);
    else {
      write(`\r\x1b[K${line}\n`);
      lines.prompt(`${current}> `, true);
    }
  };
  void followBackground(
    client,
    (reply) => {
      replies.push(reply);
      announce(backgroundLine(reply));
    },
    following.signal,
  );
  write(`legion: talking to ${current}. /help lists commands.\n`);
  prompt();
  try {
    for (let line = await lines.next(); line !== null; line = await lines.next()) {
      const action = parseReplLine(line);
      try {
        if (action.kind === 'quit') break;
        await handle(action);
      } catch (err) {
        write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      }
      for (const line of held.splice(0)) write(`${line}\n`);
      prompt();
    }
  } finally {
    following.abort();
    process.off('SIGINT', onProcessSigint);
    lines.close();
  }

  async function handle(action: Exclude<ReplAction, { kind: 'quit' }>): Promise<void> {
    switch (action.kind) {
      case 'empty':
        return;
      case 'show': {
        const reply = replies[action.n - 1];
        write(
          reply
            ? `[${reply.source} → ${reply.agent}]\n${reply.text}\n`
            : `no background reply ${action.n} (${replies.length} so far)\n`,
        );
        return;
      }
      case 'help':
        write(
          `${HELP.replace('%QUIT%', options.mode === 'fleet' ? 'stop the fleet and leave' : 'leave (the fleet keeps running)')}\n`,
        );
        return;
      case 'unknown':
        write(`${action.text}\n`);
        return;
      case 'agents':
      case 'status':
        write(`${formatAgents(await agents())}\n`);
        return;
      case 'add': {
        const project = loadProject(options.projectDir ?? client.projectDir);
        asking = true;
        let request: NewAgent;
        try {
          request = await lines.suspend(() =>
            askNewAgent(agentAddContext(project, action.name), { input: options.input, output }),
          );
        } catch (err) {
          // The wizard has said so; nothing was written.
          if (err instanceof AgentAddCancelled) return;
          throw err;
        } finally {
          asking = false;
        }
        write(`adding ${request.name}…\n`);
        await client.addAgent(request);
        write(
          `added ${request.name} (${request.role}); its container is running. /use ${request.name} to talk to it\n`,
        );
        return;
      }
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
              const last = await client
                .chat(agent, action.message, () => undefined, signal)
                .catch((err: unknown) => {
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
      case 'workflow': {
        inFlight = new AbortController();
        const { request } = action;
        if (request.action === 'run') interruptNote = 'stopped following the run';
        try {
          await workflowReplCommand(client, request, write, inFlight.signal);
        } finally {
          inFlight = null;
          interruptNote = 'reply interrupted';
        }
        return;
      }
      case 'project':
        write(projectMdText(options.projectDir ?? process.cwd()));
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
          await client.chat(
            agent,
            action.message,
            (event) => renderChatEvent(event, { reply: write, activity: write }),
            inFlight.signal,
          );
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
