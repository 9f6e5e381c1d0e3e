// Retention as a mesh domain: the pruner that trims old rows of every other domain's
// tables (mesh.yaml `retention`). Last in the list, so it is the first to stop.
import type { DomainModule } from '../domain.js';
import { Pruner } from './pruner.js';

export const retentionDomain: DomainModule<'retention', object, Pruner> = {
  name: 'retention',
  migrations: [],
  create: ({ db, logger, runtime }) => {
    const pruner = new Pruner({
      db,
      config: () => runtime.project().mesh.retention,
      timeZone: () => runtime.project().mesh.timezone,
      logger,
    });
    pruner.start();
    return {
      api: pruner,
      // A pass in progress stops after its current batch (batches are synchronous).
      close: () => void pruner.stop(),
    };
  },
};
