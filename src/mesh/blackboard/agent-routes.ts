// The blackboard on the agent API (/mesh/blackboard/*), registered inside the
// agent-token scope: request.agentName is the caller and the only writer recorded.
// Invariants: every route checks the caller's permission on the key before touching
// the store (a denial is a 403 naming the rule, recorded in the event log), and every
// accepted write or delete is recorded in the event log with its new version, in the
// same transaction as the change (both land or neither). Writes are group-committed:
// concurrent ones share a commit, and each reply is sent after it.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import {
  BlackboardDeleteRequestSchema,
  BlackboardGetRequestSchema,
  BlackboardHistoryRequestSchema,
  BlackboardListRequestSchema,
  BlackboardSetRequestSchema,
  type BlackboardDeleteResult,
  type BlackboardEntry,
  type BlackboardHistory,
  type BlackboardPage,
  type BlackboardWriteResult,
} from '../../shared/wire/blackboard.js';
import type { EventLog } from '../events/log.js';
import { assertAllowed, type PermissionChecker } from '../permissions/types.js';
import type { BlackboardStore } from './store.js';

export interface BlackboardAgentRoutesOptions {
  store: BlackboardStore;
  permissions: PermissionChecker;
  events: EventLog;
}

function caller(request: FastifyRequest): { agent: string; trace: string | null } {
  return { agent: request.agentName, trace: request.trace };
}

export const blackboardAgentRoutes: FastifyPluginAsync<BlackboardAgentRoutesOptions> = async (
  app,
  { store, permissions, events },
) => {
  app.post('/mesh/blackboard/get', async (request): Promise<BlackboardEntry> => {
    const { key } = parseOrThrow(BlackboardGetRequestSchema, request.body, 'body');
    assertAllowed(permissions, events, caller(request), 'blackboard_read', key);
    const entry = store.get(key);
    if (!entry) throw new LegionError('not_found', `no blackboard entry ${key}`);
    return entry;
  });

  app.post('/mesh/blackboard/set', async (request): Promise<BlackboardWriteResult> => {
    const body = parseOrThrow(BlackboardSetRequestSchema, request.body, 'body');
    const who = caller(request);
    assertAllowed(permissions, events, who, 'blackboard_write', body.key);
    return store.setGrouped({ ...body, writer: who.agent }, (result) =>
      events.record({
        agent: who.agent,
        kind: 'blackboard_write',
        subject: body.key,
        detail: { version: result.version },
        trace: who.trace,
      }),
    );
  });

  // Listing shows exactly the entries the caller could `get`: each key is checked on
  // its own, because a rule like context/prospect_* makes part of a prefix readable.
  // A first page with nothing readable is refused when the caller may not read
  // `<prefix>*` either, so "you may not look here" is a 403 naming the rule (recorded)
  // rather than an empty list that looks like an empty blackboard. Keys the caller
  // may not read are never named in a reply.
  app.post('/mesh/blackboard/list', async (request): Promise<BlackboardPage> => {
    const body = parseOrThrow(BlackboardListRequestSchema, request.body, 'body');
    const who = caller(request);
    const page = store.list({
      prefix: body.prefix,
      limit: body.limit,
      cursor: body.cursor,
      visible: (key) => permissions.check(who.agent, 'blackboard_read', key).allowed,
    });
    if (page.entries.length === 0 && body.cursor === undefined) {
      assertAllowed(permissions, events, who, 'blackboard_read', `${body.prefix}*`);
    }
    return page;
  });

  app.post('/mesh/blackboard/delete', async (request): Promise<BlackboardDeleteResult> => {
    const body = parseOrThrow(BlackboardDeleteRequestSchema, request.body, 'body');
    const who = caller(request);
    assertAllowed(permissions, events, who, 'blackboard_write', body.key);
    return store.deleteGrouped({ ...body, writer: who.agent }, (result) =>
      events.record({
        agent: who.agent,
        kind: 'blackboard_delete',
        subject: body.key,
        detail: { version: result.version },
        trace: who.trace,
      }),
    );
  });

  app.post('/mesh/blackboard/history', async (request): Promise<BlackboardHistory> => {
    const { key, limit } = parseOrThrow(BlackboardHistoryRequestSchema, request.body, 'body');
    assertAllowed(permissions, events, caller(request), 'blackboard_read', key);
    return { key, history: store.history(key, { limit }) };
  });
};
