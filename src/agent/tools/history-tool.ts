// read_agent_history: another agent's daily log entries, through the mesh, which checks
// can_read_history (a denial comes back as a tool error naming the rule) and asks the
// other agent for them. The model reads each entry under a "day time kind" heading.
import {
  AGENT_HISTORY_DEFAULT_LIMIT,
  AGENT_HISTORY_MAX_LIMIT,
  AgentHistoryRequestSchema,
  AgentHistoryResponseSchema,
  type AgentHistoryResponse,
} from '../../shared/wire/agent-history.js';
import type { MeshRpc } from './mesh-rpc.js';
import { defineTool, type Tool } from './registry.js';

function describeLookup(date: string | undefined, query: string | undefined): string {
  return [date === undefined ? '' : ` on ${date}`, query === undefined ? '' : ` matching "${query}"`].join('');
}

export function formatHistory(answer: AgentHistoryResponse, date?: string, query?: string): string {
  const what = describeLookup(date, query);
  if (answer.entries.length === 0) return `no entries in ${answer.agent}'s daily log${what}`;
  const lines = [
    `${answer.entries.length} entr${answer.entries.length === 1 ? 'y' : 'ies'} from ${answer.agent}'s daily log${what}, newest first${answer.more ? ' (more match: narrow by date or query, or raise limit)' : ''}:`,
  ];
  for (const entry of answer.entries) {
    lines.push('', `### ${entry.date}${entry.time === null ? '' : ` ${entry.time}`} ${entry.kind}`, entry.text);
  }
  return lines.join('\n');
}

export function createHistoryTool(mesh: MeshRpc): Tool {
  return defineTool({
    name: 'read_agent_history',
    description: `Read another agent's daily log (its chat turns and saved notes, newest first): all entries of a date (YYYY-MM-DD, UTC), or the ones containing every word of query, or simply the latest. limit: how many, default ${AGENT_HISTORY_DEFAULT_LIMIT}, at most ${AGENT_HISTORY_MAX_LIMIT}. Needs permission to read that agent's history.`,
    schema: AgentHistoryRequestSchema,
    run: async (args, ctx) => {
      const answer = await mesh.call('/mesh/agents/history', args, AgentHistoryResponseSchema, ctx.trace);
      return { ok: true, output: formatHistory(answer, args.date, args.query) };
    },
  });
}
