// The message router as a mesh domain: direct agent-to-agent messages onto lanes.
import type { DomainModule } from '../domain.js';
import type { EventLog } from '../events/log.js';
import type { Lanes } from '../lanes/domain.js';
import type { PermissionMatrix } from '../permissions/matrix.js';
import { MessageRouter, routerMigrations } from './router.js';
import { messageAgentRoutes } from './routes.js';

export const routerDomain: DomainModule<
  'router',
  { events: EventLog; permissions: PermissionMatrix; lanes: Lanes },
  MessageRouter
> = {
  name: 'router',
  migrations: routerMigrations,
  create: ({ db, knownAgents }, { events, permissions, lanes }) => {
    const router = new MessageRouter({ db, lanes: lanes.store, events, onEnqueued: lanes.kick });
    return {
      api: router,
      agentRoutes: async (app) => {
        await app.register(messageAgentRoutes, { router, permissions, events, knownAgents });
      },
    };
  },
};
