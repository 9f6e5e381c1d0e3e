// GET /api/agents/:name/history: an agent's recent turns of any origin, newest first,
// read from its lane (so retention's lane_items rule bounds it). Registered inside the
// admin scope. Invariants: a bad limit or cursor is a 400 naming it; an agent that is
// neither configured nor has any lane item left is a 404 naming it; answers whether or
// not the agent runs.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { HistoryQuerySchema, type HistoryPage } from '../../shared/wire/history.js';
import { historyTurn } from './history.js';
import type { LaneStore } from './store.js';

export interface LaneAdminRoutesOptions {
  lanes: LaneStore;
  knownAgents: () => string[];
}

const NameParams = z.object({ name: z.string() });

export const laneAdminRoutes: FastifyPluginAsync<LaneAdminRoutesOptions> = async (app, { lanes, knownAgents }) => {
  app.get('/api/agents/:name/history', async (request): Promise<HistoryPage> => {
    const { name } = parseOrThrow(NameParams, request.params, 'params');
    const { limit, before } = parseOrThrow(HistoryQuerySchema, request.query, 'query');
    const agents = knownAgents();
    if (!agents.includes(name) && !lanes.hasItems(name)) {
      throw new LegionError('unknown_agent', `no agent named "${name}" (agents: ${agents.join(', ') || 'none'})`);
    }
    // One row more than asked says whether an older page exists.
    const rows = lanes.history(name, { limit: limit + 1, ...(before === undefined ? {} : { before }) });
    const page = rows.slice(0, limit);
    return {
      agent: name,
      turns: page.map(historyTurn),
      next_before: rows.length > limit ? (page.at(-1)?.seq ?? null) : null,
    };
  });
};
