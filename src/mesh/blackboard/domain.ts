// The blackboard as a mesh domain: its store, the timer that drops expired entries,
// and its admin and agent routes.
import type { DomainModule } from '../domain.js';
import type { EventLog } from '../events/log.js';
import type { PermissionMatrix } from '../permissions/matrix.js';
import { BlackboardStore, blackboardMigrations, startBlackboardGc } from './store.js';
import { blackboardAdminRoutes } from './admin-routes.js';
import { blackboardAgentRoutes } from './agent-routes.js';

const BLACKBOARD_GC_MS = 60_000;

export const blackboardDomain: DomainModule<
  'blackboard',
  { events: EventLog; permissions: PermissionMatrix },
  BlackboardStore
> = {
  name: 'blackboard',
  migrations: blackboardMigrations,
  create: ({ db, logger }, { events, permissions }) => {
    const store = new BlackboardStore(db);
    const stopGc = startBlackboardGc(store, BLACKBOARD_GC_MS, (err) =>
      logger.error({ err, event: 'blackboard_gc_failed' }, 'blackboard gc failed'),
    );
    return {
      api: store,
      adminRoutes: async (app) => {
        await app.register(blackboardAdminRoutes, { store, events });
      },
      agentRoutes: async (app) => {
        await app.register(blackboardAgentRoutes, { store, permissions, events });
      },
      close: stopGc,
    };
  },
};
