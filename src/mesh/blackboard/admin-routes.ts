// The blackboard on the admin API (/api/blackboard*), registered inside the admin
// scope. Invariants: the operator may read and write everything, and is recorded as
// writer `operator`; a key is the rest of the URL path; options come as query
// strings and a bad one is a 400 naming it; a watch answers within 60 s.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import {
  BLACKBOARD_WATCH_DEFAULT_S,
  BlackboardDeleteQuerySchema,
  BlackboardHistoryQuerySchema,
  BlackboardKeySchema,
  BlackboardListQuerySchema,
  BlackboardPutBodySchema,
  BlackboardWatchQuerySchema,
  type BlackboardDeleteResult,
  type BlackboardEntry,
  type BlackboardHistory,
  type BlackboardPage,
  type BlackboardWatchResponse,
  type BlackboardWriteResult,
} from '../../shared/wire/blackboard.js';
import type { EventLog } from '../events/log.js';
import type { BlackboardStore } from './store.js';

export const OPERATOR_WRITER = 'operator';

export interface BlackboardAdminRoutesOptions {
  store: BlackboardStore;
  events: EventLog;
}

const WildcardParams = z.object({ '*': z.string() });

function keyFromPath(params: unknown): string {
  return parseOrThrow(BlackboardKeySchema, parseOrThrow(WildcardParams, params, 'path')['*'], 'key');
}

export const blackboardAdminRoutes: FastifyPluginAsync<BlackboardAdminRoutesOptions> = async (
  app,
  { store, events },
) => {
  app.get('/api/blackboard/entries/*', async (request): Promise<BlackboardEntry> => {
    const key = keyFromPath(request.params);
    const entry = store.get(key);
    if (!entry) throw new LegionError('not_found', `no blackboard entry ${key}`);
    return entry;
  });

  app.put('/api/blackboard/entries/*', async (request): Promise<BlackboardWriteResult> => {
    const key = keyFromPath(request.params);
    const body = parseOrThrow(BlackboardPutBodySchema, request.body, 'body');
    // The event log's agent column names agents; the operator is recorded in detail.
    return store.set({ ...body, key, writer: OPERATOR_WRITER }, (result) =>
      events.record({
        agent: null,
        kind: 'blackboard_write',
        subject: key,
        detail: { version: result.version, writer: OPERATOR_WRITER },
      }),
    );
  });

  app.delete('/api/blackboard/entries/*', async (request): Promise<BlackboardDeleteResult> => {
    const key = keyFromPath(request.params);
    const { expected_version } = parseOrThrow(BlackboardDeleteQuerySchema, request.query, 'query');
    return store.delete({ key, writer: OPERATOR_WRITER, expected_version }, (result) =>
      events.record({
        agent: null,
        kind: 'blackboard_delete',
        subject: key,
        detail: { version: result.version, writer: OPERATOR_WRITER },
      }),
    );
  });

  app.get('/api/blackboard', async (request): Promise<BlackboardPage> => {
    const query = parseOrThrow(BlackboardListQuerySchema, request.query, 'query');
    return store.list(query);
  });

  app.get('/api/blackboard/history/*', async (request): Promise<BlackboardHistory> => {
    const key = keyFromPath(request.params);
    const { limit } = parseOrThrow(BlackboardHistoryQuerySchema, request.query, 'query');
    return { key, history: store.history(key, { limit }) };
  });

  app.get('/api/blackboard/watch', async (request, reply): Promise<BlackboardWatchResponse> => {
    const query = parseOrThrow(BlackboardWatchQuerySchema, request.query, 'query');
    // Without `since` the watch starts now: only changes made while it waits count. A
    // `since` ahead of the store (the database was replaced) would hide every change
    // until the sequence caught up, so it restarts from now instead.
    const last = store.lastSeq();
    const since = Math.min(query.since ?? last, last);
    const abort = new AbortController();
    // The client left (Ctrl-C): stop waiting instead of holding a listener for a minute.
    reply.raw.on('close', () => abort.abort());
    const changes = await store.waitForChanges(
      query.prefix,
      since,
      (query.timeout_s ?? BLACKBOARD_WATCH_DEFAULT_S) * 1000,
      abort.signal,
    );
    return { changes, last_seq: changes.at(-1)?.seq ?? since };
  });
};
