// send_message through the agent API: the recipient must exist and be allowed by
// the sender's can_message.
import type { FastifyPluginAsync } from 'fastify';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { SendMessageRequestSchema } from '../../shared/wire/fleet.js';
import type { EventLog } from '../events/log.js';
import { assertAllowed, type PermissionChecker } from '../permissions/types.js';
import type { MessageRouter } from './router.js';

export interface MessageRoutesOptions {
  router: MessageRouter;
  permissions: PermissionChecker;
  events: EventLog;
  knownAgents: () => string[];
}

export const messageAgentRoutes: FastifyPluginAsync<MessageRoutesOptions> = async (
  app,
  { router, permissions, events, knownAgents },
) => {
  app.post('/mesh/messages/send', async (request) => {
    const { agent, message } = parseOrThrow(SendMessageRequestSchema, request.body, 'body');
    const known = knownAgents();
    if (!known.includes(agent)) {
      throw new LegionError('unknown_agent', `no agent named "${agent}" (agents: ${known.join(', ')})`);
    }
    if (agent === request.agentName)
      throw new LegionError('invalid_request', 'an agent cannot send a message to itself');
    assertAllowed(permissions, events, { agent: request.agentName, trace: request.trace }, 'can_message', agent);
    return router.send(request.agentName, agent, message, request.trace);
  });
};
