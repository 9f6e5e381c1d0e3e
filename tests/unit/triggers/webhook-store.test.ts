// WebhookStore over a real SQLite file in a temp dir: replays refused across a reopen,
// seen signatures pruned after the window, deliveries readable through the lane,
// filtered calls counted without waking anyone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMeshDb, type Db } from '../../../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../../../src/mesh/events/log.js';
import { LaneStore, lanesMigrations } from '../../../src/mesh/lanes/store.js';
import { SIGNATURE_WINDOW_S } from '../../../src/mesh/triggers/webhooks/signature.js';
import {
  WebhookStore,
  webhooksMigrations,
  type IncomingCall,
  type WebhookRecord,
} from '../../../src/mesh/triggers/webhooks/store.js';
import { createLogger } from '../../../src/shared/logging.js';

const NOW = 1_750_000_000;
let dir: string;
let db: Db;
let lanes: LaneStore;
let store: WebhookStore;
let woken: string[];

/** These hooks wake agents only; no workflow is configured. */
const noWorkflows = { onCall: () => ({ run: null, also: [] }), delivery: () => null };

function open(): void {
  db = openMeshDb(join(dir, 'mesh.db'), [...eventsMigrations, ...lanesMigrations, ...webhooksMigrations]);
  lanes = new LaneStore(db);
  woken = [];
  store = new WebhookStore({
    db,
    lanes,
    events: new EventLog(db, createLogger({}, { write: () => undefined })),
    onEnqueued: (agent) => woken.push(agent),
    workflows: noWorkflows,
  });
}

/** A legion-scheme hook without filters. */
const plain = { scheme: 'legion', events: null, filter: null } as const;

const call = (hook: WebhookRecord, hex: string | null, timestamp = NOW, nowS = NOW): IncomingCall => ({
  hook,
  replay: hex === null ? null : { key: hex, expiresAt: timestamp + SIGNATURE_WINDOW_S },
  filtered: false,
  nowS,
  body: { source: `webhook ${hook.name}`, title: 'json payload', text: 'hello' },
  payload: 'hello',
  contentType: 'application/json',
  bytes: 5,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legion-hooks-'));
  open();
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('WebhookStore', () => {
  it('creates hooks with long random ids and refuses a second hook of the same name', () => {
    const a = store.create({
      name: 'github',
      target: { kind: 'agent', agent: 'dev' },
      secret: 'topsecret',
      message: '{payload}',
      ...plain,
    });
    const b = store.create({
      name: 'stripe',
      target: { kind: 'agent', agent: 'dev' },
      secret: null,
      message: '{payload}',
      ...plain,
    });
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(a.id).not.toBe(b.id);
    expect(store.byId(a.id)).toEqual(a);
    expect(() =>
      store.create({ name: 'github', target: { kind: 'agent', agent: 'x' }, secret: null, message: 'm', ...plain }),
    ).toThrow(/a webhook named "github" exists/);
  });

  it("puts an accepted call on the agent's lane, wakes it and reports the delivery", () => {
    const hook = store.create({
      name: 'github',
      target: { kind: 'agent', agent: 'dev' },
      secret: null,
      message: '{payload}',
      ...plain,
    });
    const outcome = store.accept(call(hook, null));
    expect(outcome.accepted).toBe(true);
    if (!outcome.accepted) return;
    expect(woken).toEqual(['dev']);
    expect(lanes.get(outcome.deliveryId)).toMatchObject({
      agent: 'dev',
      kind: 'webhook',
      status: 'queued',
      body: { source: 'webhook github', text: 'hello' },
    });
    expect(store.delivery(outcome.deliveryId)).toMatchObject({
      delivery_id: outcome.deliveryId,
      webhook: 'github',
      target: { kind: 'agent', agent: 'dev' },
      status: 'queued',
      reply: null,
    });
    const item = lanes.claimNext('dev');
    lanes.complete(item?.id ?? '', 'done it');
    expect(store.delivery(outcome.deliveryId)).toMatchObject({ status: 'done', attempts: 1, reply: 'done it' });
    expect(store.list()).toEqual([expect.objectContaining({ name: 'github', deliveries: 1 })]);
  });

  it('refuses a signature seen before, also after the database is reopened, and enqueues nothing for it', () => {
    const hook = store.create({
      name: 'github',
      target: { kind: 'agent', agent: 'dev' },
      secret: 'topsecret',
      message: '{payload}',
      ...plain,
    });
    expect(store.accept(call(hook, 'ab'.repeat(32))).accepted).toBe(true);
    db.close();
    open();
    expect(store.accept(call(hook, 'ab'.repeat(32)))).toEqual({ accepted: false, code: 'replayed' });
    expect(lanes.depth('dev')).toEqual({ queued: 1, inflight: 0 });
    expect(store.accept(call(hook, 'cd'.repeat(32))).accepted).toBe(true);
  });

  it('prunes a seen signature once its timestamp left the window', () => {
    const hook = store.create({
      name: 'github',
      target: { kind: 'agent', agent: 'dev' },
      secret: 'topsecret',
      message: '{payload}',
      ...plain,
    });
    store.accept(call(hook, 'ab'.repeat(32)));
    const count = () => db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM webhook_signatures').get()?.n;
    store.accept(call(hook, 'cd'.repeat(32), NOW + SIGNATURE_WINDOW_S, NOW + SIGNATURE_WINDOW_S));
    expect(count()).toBe(2);
    store.accept(call(hook, 'ef'.repeat(32), NOW + SIGNATURE_WINDOW_S + 1, NOW + SIGNATURE_WINDOW_S + 1));
    expect(count()).toBe(2);
  });

  it('records a filtered call as a delivery that woke no one, and still remembers its replay key', () => {
    const hook = store.create({
      name: 'github',
      target: { kind: 'agent', agent: 'dev' },
      secret: 'topsecret',
      message: '{payload}',
      ...plain,
    });
    const outcome = store.accept({ ...call(hook, 'id:delivery-1'), filtered: true });
    expect(outcome.accepted).toBe(true);
    if (!outcome.accepted) return;
    expect(woken).toEqual([]);
    expect(lanes.depth('dev')).toEqual({ queued: 0, inflight: 0 });
    expect(store.delivery(outcome.deliveryId)).toMatchObject({
      webhook: 'github',
      status: 'filtered',
      attempts: 0,
      reply: null,
      error: null,
    });
    expect(store.list()).toEqual([expect.objectContaining({ deliveries: 1 })]);
    expect(store.accept(call(hook, 'id:delivery-1'))).toEqual({ accepted: false, code: 'replayed' });
  });

  it('removes a hook with its signatures and keeps its deliveries readable', () => {
    const hook = store.create({
      name: 'github',
      target: { kind: 'agent', agent: 'dev' },
      secret: 'topsecret',
      message: '{payload}',
      ...plain,
    });
    const outcome = store.accept(call(hook, 'ab'.repeat(32)));
    expect(store.remove('github')?.id).toBe(hook.id);
    expect(store.byId(hook.id)).toBeNull();
    expect(store.remove('github')).toBeNull();
    expect(db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM webhook_signatures').get()?.n).toBe(0);
    expect(outcome.accepted && store.delivery(outcome.deliveryId)?.webhook).toBe('github');
  });
});
