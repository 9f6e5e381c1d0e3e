// Agents reading each other's daily logs (read_agent_history) as a mesh domain: an
// agent route that checks can_read_history and fetches the entries from the target's
// agent server. No tables of its own: the logs stay in each agent's workspace.
import type { DomainModule } from '../domain.js';
import type { EventLog } from '../events/log.js';
import type { PermissionMatrix } from '../permissions/matrix.js';
import { historyAgentRoutes } from './routes.js';

export const historyDomain: DomainModule<'history', { events: EventLog; permissions: PermissionMatrix }, null> = {
  name: 'history',
  migrations: [],
  create: ({ runtime, knownAgents }, { events, permissions }) => ({
    api: null,
    agentRoutes: async (app) => {
      await app.register(historyAgentRoutes, { permissions, events, fleet: runtime.fleet, knownAgents });
    },
  }),
};
