// Heartbeat over HTTP. Agent API: set_heartbeat (needs can_manage_cron, like the cron
// tools: both let an agent schedule its own wake-ups). Admin API: each agent's setting
// and the recent beats, for `legion heartbeat`.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { queryInt } from '../../../shared/wire/blackboard.js';
import { parseOrThrow } from '../../../shared/validate.js';
import {
  HeartbeatSetRequestSchema,
  type HeartbeatSetting,
  type HeartbeatStatus,
} from '../../../shared/wire/heartbeat.js';
import type { EventLog } from '../../events/log.js';
import type { PermissionChecker } from '../../permissions/types.js';
import { assertCanManageCron } from '../cron/routes.js';
import type { HeartbeatScheduler } from './scheduler.js';

export interface HeartbeatAgentRoutesOptions {
  heartbeat: HeartbeatScheduler;
  permissions: Pick<PermissionChecker, 'canManageCron'>;
  events: EventLog;
}

export const heartbeatAgentRoutes: FastifyPluginAsync<HeartbeatAgentRoutesOptions> = async (
  app,
  { heartbeat, permissions, events },
) => {
  app.post('/mesh/heartbeat/set', async (request): Promise<HeartbeatSetting> => {
    assertCanManageCron(permissions, events, request, 'heartbeat');
    const { every, probes } = parseOrThrow(HeartbeatSetRequestSchema, request.body, 'body');
    return heartbeat.set(request.agentName, every, probes);
  });
};

const StatusQuery = z.strictObject({
  agent: z.string().optional(),
  limit: queryInt(z.int().min(1).max(1000)).default(50),
});

export const heartbeatAdminRoutes: FastifyPluginAsync<{ heartbeat: HeartbeatScheduler }> = async (
  app,
  { heartbeat },
) => {
  app.get('/api/heartbeat', async (request): Promise<HeartbeatStatus> => {
    const { agent, limit } = parseOrThrow(StatusQuery, request.query, 'query');
    return heartbeat.status(agent, limit);
  });
};
