// Agent-API routes of spawn_agent (src/shared/wire/subagents.ts says the contract). The
// caller is request.agentName; a sub-agent's own calls to spawn are refused by the
// manager's policy, and a parent reaches only its own sub-agents.
import type { FastifyPluginAsync } from 'fastify';
import { parseOrThrow } from '../../shared/validate.js';
import {
  SpawnRequestSchema,
  SubAgentIdRequestSchema,
  SubAgentWaitRequestSchema,
  type SpawnAccepted,
  type SubAgentRunView,
} from '../../shared/wire/subagents.js';
import type { SubAgents } from './manager.js';

export const subAgentRoutes: FastifyPluginAsync<{ subagents: SubAgents }> = async (app, { subagents }) => {
  app.post('/mesh/subagents/spawn', async (request, reply): Promise<SpawnAccepted> => {
    const body = parseOrThrow(SpawnRequestSchema, request.body, 'body');
    const accepted = subagents.spawn(request.agentName, body, request.trace);
    reply.status(202);
    return accepted;
  });

  app.post('/mesh/subagents/wait', async (request, reply): Promise<SubAgentRunView> => {
    const { id, wait_s: waitS } = parseOrThrow(SubAgentWaitRequestSchema, request.body, 'body');
    const gone = new AbortController();
    reply.raw.once('close', () => gone.abort());
    return subagents.wait(request.agentName, id, waitS, gone.signal);
  });

  app.post('/mesh/subagents/stop', async (request): Promise<SubAgentRunView> => {
    const { id } = parseOrThrow(SubAgentIdRequestSchema, request.body, 'body');
    return subagents.stop(request.agentName, id);
  });
};
