// Cron as a mesh domain: jobs, their runs and the timer that fires them onto lanes. A
// run ends with its lane item's reply: the scheduler hears of it from the dispatcher's
// `delivered` (and reconciles, at start, runs whose items ended otherwise).
import type { DomainModule } from '../../domain.js';
import type { EventLog } from '../../events/log.js';
import type { Lanes } from '../../lanes/domain.js';
import type { PermissionMatrix } from '../../permissions/matrix.js';
import { cronAdminRoutes, cronAgentRoutes } from './routes.js';
import { CronScheduler } from './scheduler.js';
import { CronStore, cronMigrations } from './store.js';

export const cronDomain: DomainModule<
  'cron',
  { events: EventLog; permissions: PermissionMatrix; lanes: Lanes },
  CronScheduler
> = {
  name: 'cron',
  migrations: cronMigrations,
  create: ({ db, logger, knownAgents }, { events, permissions, lanes }) => {
    const cron = new CronScheduler({
      store: new CronStore(db),
      lanes: lanes.store,
      events,
      logger,
      knownAgents,
      onEnqueued: lanes.kick,
    });
    lanes.dispatcher.delivered.on(({ item }) => {
      if (item.kind === 'cron') cron.settle(item.id);
    });
    cron.start();
    return {
      api: cron,
      adminRoutes: async (app) => {
        await app.register(cronAdminRoutes, { cron, knownAgents });
      },
      agentRoutes: async (app) => {
        await app.register(cronAgentRoutes, { cron, permissions, events });
      },
      close: () => cron.stop(),
    };
  },
};
