// Skills as a mesh domain: no tables (skills live in the project's folders and the
// agents' volumes), only the agent-API gate of create_skill (routes.ts).
import type { DomainModule } from '../domain.js';
import type { EventLog } from '../events/log.js';
import type { PermissionMatrix } from '../permissions/matrix.js';
import { skillAgentRoutes } from './routes.js';

interface Needs {
  events: EventLog;
  permissions: PermissionMatrix;
}

export const skillsDomain: DomainModule<'skills', Needs, null> = {
  name: 'skills',
  migrations: [],
  create: (_ctx, { events, permissions }) => ({
    api: null,
    agentRoutes: async (app) => {
      await app.register(skillAgentRoutes, { permissions, events });
    },
  }),
};
