// POST /mesh/agents/history on the agent API: the calling agent reads another agent's
// daily log. Order of checks: the body, the target exists, it is not the caller (its own
// log is memory_search's), can_read_history allows it (a denial is a 403 naming the rule,
// recorded), the target is running; then the target's agent server answers. Each read is
// recorded in the event log, since it hands one agent's memory to another.
import type { FastifyPluginAsync } from 'fastify';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { AgentHistoryRequestSchema, type AgentHistoryResponse } from '../../shared/wire/agent-history.js';
import type { MeshRuntime } from '../domain.js';
import type { EventLog } from '../events/log.js';
import { assertAllowed, type PermissionChecker } from '../permissions/types.js';
import { fetchAgentHistory } from './agent-fetch.js';

export interface HistoryRoutesOptions {
  permissions: PermissionChecker;
  events: EventLog;
  fleet: MeshRuntime['fleet'];
  knownAgents: () => string[];
}

export const historyAgentRoutes: FastifyPluginAsync<HistoryRoutesOptions> = async (
  app,
  { permissions, events, fleet, knownAgents },
) => {
  app.post('/mesh/agents/history', async (request): Promise<AgentHistoryResponse> => {
    const { agent, ...lookup } = parseOrThrow(AgentHistoryRequestSchema, request.body, 'body');
    const known = knownAgents();
    if (!known.includes(agent)) {
      throw new LegionError('unknown_agent', `no agent named "${agent}" (agents: ${known.join(', ')})`);
    }
    if (agent === request.agentName) {
      throw new LegionError(
        'invalid_request',
        'read_agent_history reads other agents; search your own log with memory_search or read memory/<date>.md',
      );
    }
    assertAllowed(permissions, events, { agent: request.agentName, trace: request.trace }, 'can_read_history', agent);
    const result = await fetchAgentHistory(fleet.endpoint(agent), lookup);
    events.record({
      agent: request.agentName,
      kind: 'history_read',
      subject: agent,
      detail: { date: lookup.date ?? null, query: lookup.query ?? null, entries: result.entries.length },
      trace: request.trace,
    });
    return { agent, ...result };
  });
};
