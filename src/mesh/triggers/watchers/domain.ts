// File watchers as a mesh domain: config/watchers.yaml is read before mesh.db opens;
// the watchers run from construction until close.
import type { DomainModule } from '../../domain.js';
import type { EventLog } from '../../events/log.js';
import type { Lanes } from '../../lanes/domain.js';
import { loadWatchersConfig, type WatchersConfig } from '../../../shared/config/watchers.js';
import { FileWatchers, watchersMigrations } from './watchers.js';

export const watchersDomain: DomainModule<
  'watchers',
  { events: EventLog; lanes: Lanes },
  FileWatchers,
  WatchersConfig
> = {
  name: 'watchers',
  migrations: watchersMigrations,
  load: ({ projectDir, knownAgents }) => loadWatchersConfig(projectDir, knownAgents()),
  create: ({ db, logger, projectDir, knownAgents }, { events, lanes }, config) => {
    const watchers = new FileWatchers({
      db,
      lanes: lanes.store,
      events,
      logger,
      projectDir,
      config,
      knownAgents,
      onEnqueued: lanes.kick,
    });
    watchers.start();
    return { api: watchers, close: () => watchers.stop() };
  },
};
