// The event log as a mesh domain: the audit trail every other domain records into,
// so it comes first in the assembly.
import type { DomainModule } from '../domain.js';
import { EventLog, eventsMigrations } from './log.js';
import { eventRoutes } from './routes.js';

export const eventsDomain: DomainModule<'events', object, EventLog> = {
  name: 'events',
  migrations: eventsMigrations,
  create: ({ db, logger }) => {
    const events = new EventLog(db, logger);
    return {
      api: events,
      adminRoutes: async (app) => {
        await app.register(eventRoutes, { events });
      },
    };
  },
};
