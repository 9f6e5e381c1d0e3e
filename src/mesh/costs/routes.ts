// GET /api/costs?agent=&period=today|week|month on the admin API: spending by agent and
// model with the budgets in force, for `legion costs` and the REPL's /costs. Read-only;
// the query is validated before the ledger is read.
import type { FastifyPluginAsync } from 'fastify';
import { parseOrThrow } from '../../shared/validate.js';
import { CostQuerySchema, type CostReport } from '../../shared/wire/costs.js';
import type { CostMeter } from './meter.js';

export const costAdminRoutes: FastifyPluginAsync<{ costs: CostMeter }> = async (app, { costs }) => {
  app.get('/api/costs', async (request): Promise<CostReport> => costs.report(parseOrThrow(CostQuerySchema, request.query, 'query')));
};
