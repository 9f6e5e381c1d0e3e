// spawn_agent: starts an ephemeral sub-agent in its own container (through the mesh,
// which checks can_spawn, the concurrency cap, the model and the permissions asked for,
// and refuses naming the rule), waits for its task's result in short long-polls (so no
// call outlives an HTTP timeout and a cancelled turn stops the sub-agent), and keeps
// the result and transcript in this agent's own volume under /data/subagents/<id>/.
// A sub-agent that fails or times out is a tool error with the reason.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SpawnAcceptedSchema,
  SpawnRequestSchema,
  SubAgentRunViewSchema,
  type SpawnRequest,
  type SubAgentRunView,
} from '../../shared/wire/subagents.js';
import type { MeshRpc } from './mesh-rpc.js';
import { defineTool, type Tool } from './registry.js';

/** Seconds of each wait call: how late a cancelled turn notices at most. */
const WAIT_S = 10;

export function createSpawnTool(mesh: MeshRpc): Tool {
  return defineTool({
    name: 'spawn_agent',
    description:
      'Start an ephemeral sub-agent in its own container for a focused job: it gets your permissions or fewer (`permissions` narrows them), runs `task` with `instructions` as its system prompt, and its final answer comes back as this tool result. It is removed afterwards; its result and transcript are kept under /data/subagents/<id>/. Needs can_spawn.',
    schema: SpawnRequestSchema,
    run: async (args, ctx) => {
      const { id } = await mesh.call('/mesh/subagents/spawn', args, SpawnAcceptedSchema, ctx.trace);
      let view: SubAgentRunView;
      for (;;) {
        if (ctx.signal.aborted) {
          await mesh.call('/mesh/subagents/stop', { id }, SubAgentRunViewSchema, ctx.trace);
          return { ok: false, output: `sub-agent ${id} stopped: the turn was cancelled` };
        }
        view = await mesh.call('/mesh/subagents/wait', { id, wait_s: WAIT_S }, SubAgentRunViewSchema, ctx.trace);
        if (view.status !== 'starting' && view.status !== 'running') break;
      }
      const dir = join(ctx.dataDir, 'subagents', id);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'result.md'), resultMarkdown(args, view));
      await writeFile(
        join(dir, 'transcript.jsonl'),
        view.transcript.map((entry) => `${JSON.stringify(entry)}\n`).join(''),
      );
      const kept = `(result and transcript in ${dir})`;
      if (view.status === 'done') return { ok: true, output: `${outputText(view.output)}\n\n${kept}` };
      return { ok: false, output: `${view.error?.message ?? `sub-agent ${id} ended ${view.status}`} ${kept}` };
    },
  });
}

function outputText(output: SubAgentRunView['output']): string {
  return typeof output === 'string' ? output : JSON.stringify(output, null, 2);
}

function resultMarkdown(request: SpawnRequest, view: SubAgentRunView): string {
  return [
    `# Sub-agent ${view.id}`,
    '',
    `- role: ${view.role}`,
    `- model: ${view.model}`,
    `- status: ${view.status}`,
    `- started: ${view.started_at}`,
    `- finished: ${view.finished_at ?? '-'}`,
    `- tokens: ${view.usage.prompt_tokens} prompt, ${view.usage.completion_tokens} completion`,
    '',
    '## Task',
    '',
    request.task,
    '',
    view.status === 'done' ? '## Result' : '## Error',
    '',
    view.status === 'done' ? outputText(view.output) : (view.error?.message ?? view.status),
    '',
  ].join('\n');
}
