// Cron over HTTP. Admin API (operator, any agent's jobs): list, add, remove, run now,
// run history. Agent API (set_cron, list_cron, remove_cron): only with can_manage_cron,
// and only the calling agent's own jobs; another agent's job id answers 404, as if it
// did not exist. A bad schedule or time zone is a 400 naming the problem.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { queryInt } from '../../../shared/wire/blackboard.js';
import { LegionError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/validate.js';
import {
  CronAddRequestSchema,
  CronJobIdSchema,
  CronRemoveRequestSchema,
  CronSetRequestSchema,
  type CronJob,
  type CronRun,
} from '../../../shared/wire/cron.js';
import type { EventLog } from '../../events/log.js';
import type { PermissionChecker } from '../../permissions/types.js';
import type { CronScheduler } from './scheduler.js';

/** Throws a 403 naming the rule unless the calling agent has can_manage_cron; records the denial. */
export function assertCanManageCron(
  permissions: Pick<PermissionChecker, 'canManageCron'>,
  events: EventLog,
  request: FastifyRequest,
  subject: string,
): void {
  const decision = permissions.canManageCron(request.agentName);
  if (decision.allowed) return;
  events.record({
    agent: request.agentName,
    kind: 'denied',
    subject,
    detail: { permission: 'can_manage_cron', reason: decision.reason },
    trace: request.trace,
  });
  throw new LegionError('forbidden', decision.reason);
}

export interface CronAgentRoutesOptions {
  cron: CronScheduler;
  permissions: Pick<PermissionChecker, 'canManageCron'>;
  events: EventLog;
}

export const cronAgentRoutes: FastifyPluginAsync<CronAgentRoutesOptions> = async (
  app,
  { cron, permissions, events },
) => {
  app.post('/mesh/cron/set', async (request, reply) => {
    assertCanManageCron(permissions, events, request, 'cron');
    const body = parseOrThrow(CronSetRequestSchema, request.body, 'body');
    const job: CronJob = cron.add({
      agent: request.agentName,
      schedule: body.schedule,
      message: body.message,
      tz: body.tz,
      createdBy: 'agent',
    });
    return reply.status(201).send(job);
  });

  app.post('/mesh/cron/list', async (request): Promise<{ jobs: CronJob[] }> => {
    assertCanManageCron(permissions, events, request, 'cron');
    return { jobs: cron.list(request.agentName) };
  });

  app.post('/mesh/cron/remove', async (request) => {
    assertCanManageCron(permissions, events, request, 'cron');
    const { id } = parseOrThrow(CronRemoveRequestSchema, request.body, 'body');
    cron.remove(id, request.agentName);
    return { removed: id };
  });
};

export interface CronAdminRoutesOptions {
  cron: CronScheduler;
  knownAgents: () => string[];
}

const ListQuery = z.strictObject({ agent: z.string().optional() });
const IdParams = z.strictObject({ id: CronJobIdSchema });
const RunsQuery = z.strictObject({ limit: queryInt(z.int().min(1).max(200)).default(20) });

export const cronAdminRoutes: FastifyPluginAsync<CronAdminRoutesOptions> = async (app, { cron, knownAgents }) => {
  app.get('/api/cron/jobs', async (request): Promise<{ jobs: CronJob[] }> => {
    const { agent } = parseOrThrow(ListQuery, request.query, 'query');
    return { jobs: cron.list(agent) };
  });

  app.post('/api/cron/jobs', async (request, reply) => {
    const body = parseOrThrow(CronAddRequestSchema, request.body, 'body');
    const known = knownAgents();
    if (!known.includes(body.agent)) {
      throw new LegionError('unknown_agent', `no agent named "${body.agent}" (agents: ${known.join(', ') || 'none'})`);
    }
    return reply.status(201).send(cron.add({ ...body, createdBy: 'operator' }));
  });

  app.delete('/api/cron/jobs/:id', async (request) => {
    const { id } = parseOrThrow(IdParams, request.params, 'params');
    cron.remove(id);
    return { removed: id };
  });

  app.post('/api/cron/jobs/:id/run', async (request): Promise<{ run: CronRun }> => {
    const { id } = parseOrThrow(IdParams, request.params, 'params');
    return { run: cron.runNow(id) };
  });

  app.get('/api/cron/jobs/:id/runs', async (request): Promise<{ runs: CronRun[] }> => {
    const { id } = parseOrThrow(IdParams, request.params, 'params');
    const { limit } = parseOrThrow(RunsQuery, request.query, 'query');
    return { runs: cron.runs(id, limit) };
  });
};
