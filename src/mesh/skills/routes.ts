// POST /mesh/skills/create on the agent API: the gate of create_skill. The agent asks
// before it writes a skill; only can_create_skills (off by default) grants it, a
// denial is a 403 naming the flag, and each grant is one `skill_created` event with the
// skill's name.
import type { FastifyPluginAsync } from 'fastify';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { SkillCreateRequestSchema } from '../../shared/wire/skills.js';
import type { EventLog } from '../events/log.js';
import type { FlagChecker } from '../permissions/types.js';

export interface SkillRoutesOptions {
  permissions: FlagChecker;
  events: EventLog;
}

export const skillAgentRoutes: FastifyPluginAsync<SkillRoutesOptions> = async (app, { permissions, events }) => {
  app.post('/mesh/skills/create', async (request): Promise<{ granted: true }> => {
    const body = parseOrThrow(SkillCreateRequestSchema, request.body, 'body');
    const agent = request.agentName;
    const decision = permissions.flag(agent, 'can_create_skills');
    if (!decision.allowed) {
      events.record({
        agent,
        kind: 'denied',
        subject: body.name,
        detail: { permission: 'can_create_skills', reason: decision.reason },
        trace: request.trace,
      });
      throw new LegionError('forbidden', decision.reason);
    }
    events.record({
      agent,
      kind: 'skill_created',
      subject: body.name,
      detail: { with_tool: body.with_tool },
      trace: request.trace,
    });
    return { granted: true };
  });
};
