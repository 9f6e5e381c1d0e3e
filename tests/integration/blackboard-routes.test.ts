// The blackboard routes as the mesh mounts them: the error handler, an agent-API scope
// with the real agent-token check and the agent routes, the admin routes, a real
// SQLite file and event log, and a small glob-map PermissionChecker written here.
// The CLI's REPL command runs against the same app over a real port.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import picomatch from 'picomatch';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../../src/mesh/events/log.js';
import { installErrorHandler } from '../../src/mesh/http/errors.js';
import { AgentTokens, requireAgentToken, TRACE_HEADER } from '../../src/mesh/http/agent-auth.js';
import type { PermissionChecker } from '../../src/mesh/permissions/types.js';
import type { Decision, DomainDecision, Permission } from '../../src/shared/config/permissions/types.js';
import { BlackboardStore, blackboardMigrations } from '../../src/mesh/blackboard/store.js';
import { blackboardAgentRoutes } from '../../src/mesh/blackboard/agent-routes.js';
import { blackboardAdminRoutes } from '../../src/mesh/blackboard/admin-routes.js';
import { createLogger } from '../../src/shared/logging.js';
import {
  BlackboardChangeSchema,
  BlackboardEntrySchema,
  BlackboardHistorySchema,
  BlackboardPageSchema,
  BlackboardWatchResponseSchema,
  BlackboardWriteResultSchema,
} from '../../src/shared/wire/blackboard.js';
import { ErrorResponseSchema } from '../../src/shared/wire/error.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import { blackboardReplCommand } from '../../src/cli/commands/blackboard.js';

type Globs = Partial<Record<Permission, string[]>>;

/** Allowed globs per agent; anything unmatched is denied with the rule, like the real matrix. */
class GlobPermissions implements PermissionChecker {
  constructor(private readonly rules: Record<string, Globs>) {}

  check(agent: string, permission: Permission, subject: string): Decision {
    const globs = this.rules[agent]?.[permission] ?? [];
    if (globs.length > 0 && picomatch(globs, { dot: true })(subject)) return { allowed: true };
    return {
      allowed: false,
      reason: `${agent} may not ${permission === 'blackboard_read' ? 'read' : 'write'} ${subject}: ${permission} is ${JSON.stringify(globs)}`,
    };
  }

  checkDomain(agent: string, host: string, port: number): DomainDecision {
    return { allowed: false, reason: `${agent} may not connect to ${host}:${port}` };
  }

  canUseInternet(): boolean {
    return false;
  }

  canManageCron(agent: string): Decision {
    return { allowed: false, reason: `${agent} may not manage cron jobs or its heartbeat` };
  }
}

const RULES: Record<string, Globs> = {
  alice: { blackboard_read: ['tasks/*', 'context/*'], blackboard_write: ['context/prospect_*', 'tasks/*'] },
  bob: { blackboard_read: ['context/prospect_*'], blackboard_write: ['agents/bob/**'] },
};

let dir: string;
let db: Db;
let app: FastifyInstance;
let store: BlackboardStore;
let events: EventLog;
let tokens: Record<string, string>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'legion-bb-routes-'));
  db = openMeshDb(join(dir, 'mesh.db'), [...eventsMigrations, ...blackboardMigrations]);
  events = new EventLog(db, createLogger({}, { write: () => undefined }));
  store = new BlackboardStore(db);
  const agentTokens = new AgentTokens();
  tokens = { alice: agentTokens.mint('alice'), bob: agentTokens.mint('bob') };
  // Closing must not wait for a long-poll watch a test abandoned.
  app = Fastify({ forceCloseConnections: true });
  installErrorHandler(app);
  await app.register(async (scope) => {
    requireAgentToken(scope, agentTokens);
    await scope.register(blackboardAgentRoutes, { store, permissions: new GlobPermissions(RULES), events });
  });
  await app.register(blackboardAdminRoutes, { store, events });
  await app.ready();
});

afterEach(async () => {
  await app.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function agentCall(agent: string, route: string, body: unknown, trace?: string): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/mesh/blackboard/${route}`,
    headers: { authorization: `Bearer ${tokens[agent] ?? 'none'}`, ...(trace ? { [TRACE_HEADER]: trace } : {}) },
    payload: body as object,
  });
}

function errorOf(response: LightMyRequestResponse): {
  code: string;
  message: string;
  path?: string;
  current_version?: number;
} {
  const parsed = ErrorResponseSchema.parse(response.json());
  return { ...parsed.error, ...(response.json() as { error: { current_version?: number } }).error };
}

describe('agent routes', () => {
  it('A writes, B reads the value and version; each write is an event with the trace', async () => {
    const write = await agentCall(
      'alice',
      'set',
      { key: 'context/prospect_acme', value: { name: 'Acme', score: 0.8 } },
      'turn-1',
    );
    expect(write.statusCode).toBe(200);
    expect(BlackboardWriteResultSchema.parse(write.json())).toMatchObject({
      key: 'context/prospect_acme',
      version: 1,
      writer: 'alice',
    });

    const read = await agentCall('bob', 'get', { key: 'context/prospect_acme' });
    expect(read.statusCode).toBe(200);
    expect(BlackboardEntrySchema.parse(read.json())).toMatchObject({
      value: { name: 'Acme', score: 0.8 },
      version: 1,
      writer: 'alice',
    });

    const second = await agentCall('alice', 'set', { key: 'context/prospect_acme', value: 'v2', expected_version: 1 });
    expect(second.json()).toMatchObject({ version: 2 });
    const writes = events.list({}).filter((e) => e.kind === 'blackboard_write');
    expect(writes.map((e) => [e.agent, e.subject, e.detail, e.trace])).toEqual([
      ['alice', 'context/prospect_acme', { version: 1 }, 'turn-1'],
      ['alice', 'context/prospect_acme', { version: 2 }, null],
    ]);
  });

  it('a write outside the globs is a 403 naming the rule, recorded, and changes nothing', async () => {
    const denied = await agentCall('bob', 'set', { key: 'context/x', value: 1 }, 'turn-9');
    expect(denied.statusCode).toBe(403);
    expect(errorOf(denied)).toMatchObject({
      code: 'forbidden',
      message: 'bob may not write context/x: blackboard_write is ["agents/bob/**"]',
    });
    expect(store.get('context/x')).toBeNull();
    const recorded = events.list({ agent: 'bob' });
    expect(recorded).toEqual([
      expect.objectContaining({
        kind: 'denied',
        subject: 'context/x',
        trace: 'turn-9',
        detail: {
          permission: 'blackboard_write',
          reason: 'bob may not write context/x: blackboard_write is ["agents/bob/**"]',
        },
      }),
    ]);
  });

  it('get, history and delete are checked too; a missing key is a 404', async () => {
    store.set({ key: 'tasks/t1', value: 'todo', writer: 'alice' });
    expect((await agentCall('bob', 'get', { key: 'tasks/t1' })).statusCode).toBe(403);
    expect((await agentCall('bob', 'history', { key: 'tasks/t1' })).statusCode).toBe(403);
    expect((await agentCall('bob', 'delete', { key: 'tasks/t1' })).statusCode).toBe(403);
    expect(events.list({ agent: 'bob' }).map((e) => e.detail)).toEqual([
      expect.objectContaining({ permission: 'blackboard_read' }),
      expect.objectContaining({ permission: 'blackboard_read' }),
      expect.objectContaining({ permission: 'blackboard_write' }),
    ]);

    const missing = await agentCall('alice', 'get', { key: 'tasks/none' });
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing).code).toBe('not_found');
  });

  it('CAS conflict is a 409 with the current version in message and body', async () => {
    for (let i = 0; i < 4; i++)
      expect((await agentCall('alice', 'set', { key: 'tasks/x', value: i })).statusCode).toBe(200);
    const stale = await agentCall('alice', 'set', { key: 'tasks/x', value: 'late', expected_version: 3 });
    expect(stale.statusCode).toBe(409);
    expect(errorOf(stale)).toMatchObject({ code: 'version_conflict', current_version: 4 });
    expect(errorOf(stale).message).toContain('tasks/x is at version 4, not 3');
    const fresh = await agentCall('alice', 'set', { key: 'tasks/new', value: 1, expected_version: 0 });
    expect(fresh.json()).toMatchObject({ version: 1 });
  });

  it('delete and history: newest first, delete recorded as an event', async () => {
    await agentCall('alice', 'set', { key: 'tasks/t2', value: 'a' });
    await agentCall('alice', 'set', { key: 'tasks/t2', value: 'b' });
    const deleted = await agentCall('alice', 'delete', { key: 'tasks/t2', expected_version: 2 });
    expect(deleted.json()).toEqual({ key: 'tasks/t2', deleted: true, version: 3 });
    const history = BlackboardHistorySchema.parse(
      (await agentCall('alice', 'history', { key: 'tasks/t2', limit: 2 })).json(),
    );
    expect(history.history.map((h) => [h.version, h.op, h.value])).toEqual([
      [3, 'delete', null],
      [2, 'set', 'b'],
    ]);
    expect(events.list({ agent: 'alice' }).at(-1)).toMatchObject({
      kind: 'blackboard_delete',
      subject: 'tasks/t2',
      detail: { version: 3 },
    });
  });

  it('list returns only readable entries, and a 403 when nothing under the prefix is readable', async () => {
    store.set({ key: 'context/prospect_acme', value: 1, writer: 'alice' });
    store.set({ key: 'context/prospect_zeta', value: 2, writer: 'alice' });
    store.set({ key: 'context/secret', value: 3, writer: 'alice' });
    store.set({ key: 'tasks/t1', value: 4, writer: 'alice' });

    const bobs = BlackboardPageSchema.parse((await agentCall('bob', 'list', { prefix: 'context/' })).json());
    expect(bobs.entries.map((e) => e.key)).toEqual(['context/prospect_acme', 'context/prospect_zeta']);

    const paged = BlackboardPageSchema.parse((await agentCall('bob', 'list', { prefix: 'context/', limit: 1 })).json());
    expect(paged.entries.map((e) => e.key)).toEqual(['context/prospect_acme']);
    const rest = BlackboardPageSchema.parse(
      (await agentCall('bob', 'list', { prefix: 'context/', limit: 1, cursor: paged.next_cursor })).json(),
    );
    expect(rest).toMatchObject({
      entries: [expect.objectContaining({ key: 'context/prospect_zeta' })],
      next_cursor: null,
    });

    const forbidden = await agentCall('bob', 'list', { prefix: 'tasks/' });
    expect(forbidden.statusCode).toBe(403);
    expect(errorOf(forbidden).message).toBe('bob may not read tasks/*: blackboard_read is ["context/prospect_*"]');
    expect(events.list({ agent: 'bob' }).at(-1)).toMatchObject({ kind: 'denied', subject: 'tasks/*' });

    // A readable but empty prefix is just empty.
    const empty = await agentCall('alice', 'list', { prefix: 'tasks/none' });
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({ entries: [], next_cursor: null });
  });

  it('bad bodies are 400s naming the field; no token is a 401', async () => {
    const badKey = await agentCall('alice', 'set', { key: 'context/../etc', value: 1 });
    expect(badKey.statusCode).toBe(400);
    expect(errorOf(badKey)).toMatchObject({ path: 'key' });
    expect(errorOf(badKey).message).toContain('body: key: a key cannot contain a ".." segment');

    const noValue = await agentCall('alice', 'set', { key: 'context/a' });
    expect(errorOf(noValue)).toMatchObject({ path: 'value', message: 'body: value: expected a JSON value' });

    const typo = await agentCall('alice', 'set', { key: 'context/a', value: 1, expectedVersion: 2 });
    expect(errorOf(typo).message).toContain('unknown key "expectedVersion"');

    const huge = await agentCall('alice', 'set', { key: 'context/a', value: 'x'.repeat(300_000) });
    expect(huge.statusCode).toBe(400);
    expect(errorOf(huge).message).toMatch(/value: the value is 300002 bytes as JSON; the limit is 262144 bytes/);

    const ttl = await agentCall('alice', 'set', { key: 'context/a', value: 1, ttl_s: 0 });
    expect(errorOf(ttl).path).toBe('ttl_s');

    const anonymous = await app.inject({ method: 'POST', url: '/mesh/blackboard/get', payload: { key: 'context/a' } });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('admin routes', () => {
  it('put, get, list and history by path, with the operator as writer', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/api/blackboard/entries/context/ns:1/a',
      payload: { value: { ok: true }, ttl_s: 60 },
    });
    expect(put.statusCode).toBe(200);
    expect(BlackboardWriteResultSchema.parse(put.json())).toMatchObject({
      key: 'context/ns:1/a',
      version: 1,
      writer: 'operator',
    });
    expect(put.json<{ expires_at: string }>().expires_at).not.toBeNull();

    // Percent-encoded segments (what the CLI sends) name the same key.
    const got = await app.inject({ method: 'GET', url: '/api/blackboard/entries/context/ns%3A1/a' });
    expect(BlackboardEntrySchema.parse(got.json())).toMatchObject({
      key: 'context/ns:1/a',
      value: { ok: true },
      writer: 'operator',
    });

    await app.inject({ method: 'PUT', url: '/api/blackboard/entries/context/b', payload: { value: 2 } });
    await app.inject({ method: 'PUT', url: '/api/blackboard/entries/tasks/c', payload: { value: 3 } });
    const listed = BlackboardPageSchema.parse(
      (await app.inject({ method: 'GET', url: '/api/blackboard?prefix=context/&limit=1' })).json(),
    );
    expect(listed.entries.map((e) => e.key)).toEqual(['context/b']);
    const next = BlackboardPageSchema.parse(
      (
        await app.inject({
          method: 'GET',
          url: `/api/blackboard?prefix=context/&limit=1&cursor=${encodeURIComponent(listed.next_cursor!)}`,
        })
      ).json(),
    );
    expect(next).toMatchObject({ entries: [expect.objectContaining({ key: 'context/ns:1/a' })], next_cursor: null });

    const conflict = await app.inject({
      method: 'PUT',
      url: '/api/blackboard/entries/context/b',
      payload: { value: 9, expected_version: 0 },
    });
    expect(conflict.statusCode).toBe(409);
    expect(errorOf(conflict)).toMatchObject({ code: 'version_conflict', current_version: 1 });

    const deleted = await app.inject({ method: 'DELETE', url: '/api/blackboard/entries/context/b?expected_version=1' });
    expect(deleted.json()).toEqual({ key: 'context/b', deleted: true, version: 2 });
    const history = BlackboardHistorySchema.parse(
      (await app.inject({ method: 'GET', url: '/api/blackboard/history/context/b?limit=5' })).json(),
    );
    expect(history.history.map((h) => [h.op, h.writer])).toEqual([
      ['delete', 'operator'],
      ['set', 'operator'],
    ]);
    expect((await app.inject({ method: 'GET', url: '/api/blackboard/entries/context/b' })).statusCode).toBe(404);
    expect(events.list({}).map((e) => [e.agent, e.kind, e.subject])).toEqual([
      [null, 'blackboard_write', 'context/ns:1/a'],
      [null, 'blackboard_write', 'context/b'],
      [null, 'blackboard_write', 'tasks/c'],
      [null, 'blackboard_delete', 'context/b'],
    ]);
  });

  it('bad paths, queries and bodies are 400s naming the field', async () => {
    const cases: [string, string, unknown, string][] = [
      ['GET', '/api/blackboard/entries/context//a', undefined, 'key'],
      ['PUT', '/api/blackboard/entries/context/a', { value: 1, ttl_s: 'soon' }, 'body: ttl_s'],
      ['PUT', '/api/blackboard/entries/context/a', { val: 1 }, 'body: value'],
      ['GET', '/api/blackboard?limit=lots', undefined, 'query: limit: expected a whole number'],
      ['GET', '/api/blackboard?limit=501', undefined, 'query: limit'],
      ['GET', '/api/blackboard?prefix=/abs', undefined, 'query: prefix'],
      ['GET', '/api/blackboard?pefix=tasks/', undefined, 'unknown key "pefix"'],
      ['DELETE', '/api/blackboard/entries/context/a?expected_version=-1', undefined, 'query: expected_version'],
      ['GET', '/api/blackboard/history/tasks/t?limit=0', undefined, 'query: limit'],
      ['GET', '/api/blackboard/watch?timeout_s=61', undefined, 'query: timeout_s'],
      ['GET', '/api/blackboard/watch?since=x', undefined, 'query: since'],
    ];
    for (const [method, url, payload, mentions] of cases) {
      const response = await app.inject({
        method: method as 'GET',
        url,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(400);
      expect(errorOf(response).message, `${method} ${url}`).toContain(mentions);
    }
  });

  it('watch answers as soon as something changes under the prefix, else at the timeout', async () => {
    store.set({ key: 'signals/old', value: 1, writer: 'w' });
    const started = Date.now();
    const watching = app.inject({ method: 'GET', url: '/api/blackboard/watch?prefix=signals/&timeout_s=20' });
    setTimeout(() => {
      store.set({ key: 'context/elsewhere', value: 1, writer: 'w' });
      store.set({ key: 'signals/go', value: 'now', writer: 'w' });
    }, 50);
    const answer = BlackboardWatchResponseSchema.parse((await watching).json());
    expect(Date.now() - started).toBeLessThan(5000);
    // "since" omitted means from now: signals/old is not replayed.
    expect(answer.changes.map((c) => [c.key, c.op, c.value])).toEqual([['signals/go', 'set', 'now']]);
    expect(answer.last_seq).toBe(store.lastSeq());

    // With since, earlier changes are returned at once.
    const replay = BlackboardWatchResponseSchema.parse(
      (await app.inject({ method: 'GET', url: '/api/blackboard/watch?prefix=signals/&since=0' })).json(),
    );
    expect(replay.changes.map((c) => c.key)).toEqual(['signals/old', 'signals/go']);

    const quiet = await app.inject({
      method: 'GET',
      url: `/api/blackboard/watch?prefix=tasks/&since=${answer.last_seq}&timeout_s=0`,
    });
    expect(quiet.json()).toEqual({ changes: [], last_seq: answer.last_seq });
    expect(BlackboardChangeSchema.array().parse(replay.changes)).toHaveLength(2);

    // A since ahead of the store (a replaced database) restarts from now instead of hiding changes.
    const ahead = await app.inject({ method: 'GET', url: '/api/blackboard/watch?since=999999&timeout_s=0' });
    expect(ahead.json()).toEqual({ changes: [], last_seq: store.lastSeq() });
  });
});

describe('REPL /blackboard over a real port', () => {
  it('lists entries as a table and shows one value', async () => {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const client = new MeshClient(url, 'no-admin-token-in-this-app', dir);
    store.set({ key: 'context/ns:1/a', value: { hello: 'world' }, writer: 'alice' });
    store.set({ key: 'tasks/t1', value: 'todo', writer: 'bob' });

    const table = await blackboardReplCommand(client, []);
    expect(table.split('\n')[0]).toMatch(/^KEY\s+VERSION\s+WRITER\s+UPDATED$/);
    expect(table).toMatch(/context\/ns:1\/a\s+1\s+alice/);
    expect(table).toMatch(/tasks\/t1\s+1\s+bob/);
    expect(await blackboardReplCommand(client, ['tasks/'])).not.toContain('context/');
    expect(await blackboardReplCommand(client, ['signals/'])).toBe('no entries under "signals/"');

    const shown = await blackboardReplCommand(client, ['get', 'context/ns:1/a']);
    expect(shown).toContain('{\n  "hello": "world"\n}');
    expect(shown).toContain('context/ns:1/a: version 1 by alice');
    await expect(blackboardReplCommand(client, ['get', 'context/missing'])).rejects.toThrow(
      'no blackboard entry context/missing',
    );
    await expect(blackboardReplCommand(client, ['get', '../x'])).rejects.toThrow(/key: a key cannot/);
    expect(await blackboardReplCommand(client, ['get'])).toMatch(/^usage:/);
  });
});
