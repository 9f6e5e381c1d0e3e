// GET /api/costs?agent=&period=today|week|month on the admin API: spending by agent and
// model with the budgets in force, for `legion costs` and the REPL's /costs; and
// GET /api/costs/daily?month=YYYY-MM, spending per agent per day, for the dashboard.
// Read-only; the query is validated before the ledger is read.
import type { FastifyPluginAsync } from 'fastify';
import { parseOrThrow } from '../../shared/validate.js';
import { CostMonthQuerySchema, CostQuerySchema, type CostMonth, type CostReport } from '../../shared/wire/costs.js';
import type { CostMeter } from './meter.js';

export const costAdminRoutes: FastifyPluginAsync<{ costs: CostMeter }> = async (app, { costs }) => {
  app.get(
    '/api/costs',
    async (request): Promise<CostReport> => costs.report(parseOrThrow(CostQuerySchema, request.query, 'query')),
  );
  app.get(
    '/api/costs/daily',
    async (request): Promise<CostMonth> =>
      costs.monthReport(parseOrThrow(CostMonthQuerySchema, request.query, 'query').month),
  );
};
