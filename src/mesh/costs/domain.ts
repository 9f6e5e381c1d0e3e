// Costs as a mesh domain: the ledger, budgets and the price table. config/prices.yaml
// is read before mesh.db opens; providers served locally are priced at 0 unless it
// says otherwise.
import type { DomainModule } from '../domain.js';
import type { EventLog } from '../events/log.js';
import { localProviderNames, resolveProviders } from '../../shared/config/providers.js';
import { costsMigrations } from './ledger.js';
import { openCostMeter, type CostMeter } from './meter.js';
import { loadPriceBook, type PriceBook } from '../../shared/config/prices.js';
import { costAdminRoutes } from './routes.js';

export const costsDomain: DomainModule<'costs', { events: EventLog }, CostMeter, PriceBook> = {
  name: 'costs',
  migrations: costsMigrations,
  load: ({ projectDir, logger, runtime }) =>
    loadPriceBook(projectDir, logger, localProviderNames(resolveProviders(runtime.project()))),
  create: ({ db, logger, runtime }, { events }, prices) => {
    const costs = openCostMeter({ db, prices, config: runtime.project, events, logger });
    return {
      api: costs,
      adminRoutes: async (app) => {
        await app.register(costAdminRoutes, { costs });
      },
    };
  },
};
