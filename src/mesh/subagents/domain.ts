// Sub-agents as a mesh domain: spawn_agent's runs (manager.ts) and their agent routes.
// No tables: a run lives in this mesh's memory, and what a crash leaves behind is found
// by its container labels at the next start (orphans.ts). The mesh wires the rest: the
// fleet asks launchSpec for a sub-agent's entry, a parent going down ends its runs
// (endFor), the mesh's stop ends them all (endAll), the LLM route reports each call
// (observeLlm, the transcript).
import type { DomainModule } from '../domain.js';
import type { EventLog } from '../events/log.js';
import type { PermissionMatrix } from '../permissions/matrix.js';
import { SubAgents } from './manager.js';
import { subAgentRoutes } from './routes.js';

export const subagentsDomain: DomainModule<
  'subagents',
  { events: EventLog; permissions: PermissionMatrix },
  SubAgents
> = {
  name: 'subagents',
  migrations: [],
  create: ({ logger, runtime }, { events, permissions }) => {
    const subagents = new SubAgents({ permissions, events, fleet: runtime.fleet, project: runtime.project, logger });
    return {
      api: subagents,
      agentRoutes: async (app) => {
        await app.register(subAgentRoutes, { subagents });
      },
      close: () => subagents.endAll('the mesh is stopping'),
    };
  },
};
