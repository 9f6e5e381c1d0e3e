// Pub/sub as a mesh domain: topics, subscriptions and their deliveries onto lanes.
// Domains built later hear of every publish through `published` (workflow triggers).
import type { DomainModule } from '../domain.js';
import type { EventLog } from '../events/log.js';
import type { Lanes } from '../lanes/domain.js';
import type { PermissionMatrix } from '../permissions/matrix.js';
import { PubSub, pubsubMigrations } from './pubsub.js';
import { pubsubAdminRoutes, pubsubAgentRoutes } from './routes.js';

export const pubsubDomain: DomainModule<
  'pubsub',
  { events: EventLog; permissions: PermissionMatrix; lanes: Lanes },
  PubSub
> = {
  name: 'pubsub',
  migrations: pubsubMigrations,
  create: ({ db, knownAgents }, { events, permissions, lanes }) => {
    const pubsub = new PubSub({ db, lanes: lanes.store, events, permissions, knownAgents, onEnqueued: lanes.kick });
    return {
      api: pubsub,
      adminRoutes: async (app) => {
        await app.register(pubsubAdminRoutes, { pubsub });
      },
      agentRoutes: async (app) => {
        await app.register(pubsubAgentRoutes, { pubsub, permissions, events });
      },
    };
  },
};
