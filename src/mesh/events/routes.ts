// GET /api/events: the event log for `legion logs`. Without `after` it returns the
// newest `limit` events; with `after` and `wait_s` it long-polls until newer ones exist.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { queryInt } from '../../shared/wire/blackboard.js';
import { parseOrThrow } from '../../shared/validate.js';
import type { EventList } from '../../shared/wire/events.js';
import type { EventLog } from './log.js';

const EventsQuery = z.strictObject({
  agent: z.string().optional(),
  after: queryInt(z.int().nonnegative()).optional(),
  limit: queryInt(z.int().min(1).max(1000)).default(100),
  wait_s: z.coerce.number().min(0).max(60).default(0),
});

export const eventRoutes: FastifyPluginAsync<{ events: EventLog }> = async (app, { events }) => {
  app.get('/api/events', async (request): Promise<EventList> => {
    const query = parseOrThrow(EventsQuery, request.query, 'query');
    const filter = query.agent ? { agent: query.agent } : {};
    if (query.after === undefined) {
      const list = events.tail({ ...filter, limit: query.limit });
      return { events: list, last_id: list.at(-1)?.id ?? events.list({ afterId: 0, limit: 1 }).at(-1)?.id ?? 0 };
    }
    const deadline = Date.now() + query.wait_s * 1000;
    const abort = new AbortController();
    request.raw.on('close', () => abort.abort());
    for (;;) {
      const list = events.list({ afterId: query.after, ...filter, limit: query.limit });
      if (list.length > 0 || Date.now() >= deadline || abort.signal.aborted)
        return { events: list, last_id: list.at(-1)?.id ?? query.after };
      await events.waitForNext(deadline - Date.now(), abort.signal);
    }
  });
};
