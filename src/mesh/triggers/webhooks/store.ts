// Webhooks in mesh.db: the hooks (name unique, random id in the URL, the sender's
// secret kept so the mesh can verify signatures, its scheme and filters), their
// deliveries and the replay keys already seen (signatures, or senders' delivery ids as
// `id:<id>`). Invariants: a call is accepted in one transaction that records its
// replay key, puts the message on the target agent's lane (or starts the target
// workflow's run), starts the runs of workflows whose trigger names the hook, and
// records the delivery, so a replay is refused even across a restart and an accepted
// call is never lost; a filtered call records its key and its delivery and wakes no
// one; seen keys are pruned once they expire; the secret never leaves this file except
// to the signature check and the mesh's own signer.
import type { Db, Migration } from '../../db.js';
import { LegionError } from '../../../shared/errors.js';
import { newId, newSecret } from '../../../shared/ids.js';
import {
  WebhookSchemeSchema,
  webhookTargetLabel,
  type WebhookDelivery,
  type WebhookScheme,
  type WebhookTarget,
} from '../../../shared/wire/webhooks.js';
import type { EventLog } from '../../events/log.js';
import type { TriggerBody } from '../../lanes/format.js';
import type { LaneStore } from '../../lanes/store.js';

export const webhooksMigrations: Migration[] = [
  {
    domain: 'webhooks',
    version: 1,
    sql: `CREATE TABLE webhooks (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      target_kind TEXT NOT NULL,
      target TEXT NOT NULL,
      secret TEXT,
      message TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE webhook_deliveries (
      id TEXT PRIMARY KEY,
      webhook_id TEXT NOT NULL,
      webhook_name TEXT NOT NULL,
      target_kind TEXT NOT NULL,
      target TEXT NOT NULL,
      content_type TEXT,
      bytes INTEGER NOT NULL,
      received_at TEXT NOT NULL
    );
    CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id);
    CREATE TABLE webhook_signatures (
      webhook_id TEXT NOT NULL,
      signature TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (webhook_id, signature)
    );
    CREATE INDEX webhook_signatures_expiry ON webhook_signatures (expires_at);`,
  },
  {
    domain: 'webhooks',
    version: 2,
    sql: `ALTER TABLE webhooks ADD COLUMN scheme TEXT NOT NULL DEFAULT 'legion';
    ALTER TABLE webhooks ADD COLUMN events TEXT;
    ALTER TABLE webhooks ADD COLUMN filter TEXT;
    ALTER TABLE webhook_deliveries ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;`,
  },
];

export interface WebhookRecord {
  id: string;
  name: string;
  target: WebhookTarget;
  secret: string | null;
  scheme: WebhookScheme;
  /** null: every event type passes. */
  events: string[] | null;
  filter: string | null;
  message: string;
  created_at: string;
}

interface WebhookRow {
  id: string;
  name: string;
  target_kind: string;
  target: string;
  secret: string | null;
  scheme: string;
  events: string | null;
  filter: string | null;
  message: string;
  created_at: string;
}

interface DeliveryRow {
  id: string;
  webhook_name: string;
  target_kind: string;
  target: string;
  received_at: string;
  filtered: number;
}

function targetOf(kind: string, target: string): WebhookTarget {
  if (kind === 'agent') return { kind: 'agent', agent: target };
  if (kind === 'workflow') return { kind: 'workflow', workflow: target };
  throw new LegionError(
    'webhook_target_unknown',
    `a webhook in mesh.db targets a ${kind}, which this mesh cannot deliver to`,
  );
}

function schemeOf(scheme: string): WebhookScheme {
  const parsed = WebhookSchemeSchema.safeParse(scheme);
  if (parsed.success) return parsed.data;
  throw new LegionError(
    'webhook_scheme_unknown',
    `a webhook in mesh.db checks ${scheme} signatures, which this mesh does not know`,
  );
}

function recordOf(row: WebhookRow): WebhookRecord {
  return {
    id: row.id,
    name: row.name,
    target: targetOf(row.target_kind, row.target),
    secret: row.secret,
    scheme: schemeOf(row.scheme),
    events: row.events === null ? null : (JSON.parse(row.events) as string[]),
    filter: row.filter,
    message: row.message,
    created_at: row.created_at,
  };
}

/** Where a target's kind and name are stored. */
function targetColumns(target: WebhookTarget): [string, string] {
  return [target.kind, target.kind === 'agent' ? target.agent : target.workflow];
}

/** The agent a hook wakes, for events and logs; null for a workflow target. */
export function targetAgent(target: WebhookTarget): string | null {
  return target.kind === 'agent' ? target.agent : null;
}

export interface IncomingCall {
  hook: WebhookRecord;
  /** What a replay of this call would repeat (its signature or the sender's delivery id), kept
   *  until expiresAt (unix seconds); null when nothing identifies it. */
  replay: { key: string; expiresAt: number } | null;
  /** Turned away by the hook's events or filter: recorded, but nothing is woken or started. */
  filtered: boolean;
  nowS: number;
  body: TriggerBody;
  /** The parsed payload, a workflow run's trigger.payload. */
  payload: unknown;
  contentType: string | null;
  bytes: number;
}

export type CallOutcome =
  | { accepted: true; deliveryId: string; runs: string[] }
  | { accepted: false; code: 'replayed' };

/** The outcome of a delivery that started a workflow run, in a delivery's terms. */
export interface RunDelivery {
  status: WebhookDelivery['status'];
  attempts: number;
  reply: string | null;
  error: string | null;
}

export interface WebhookWorkflows {
  /** Inside the call's transaction: starts the target workflow's run (throws when it
   *  cannot) and the runs of workflows whose trigger names the hook; `run` is the target's. */
  onCall: (hook: string, target: string | null, payload: unknown) => { run: string | null; also: string[] };
  /** A run started by a call, as a delivery; null for an unknown run id. */
  delivery: (runId: string) => RunDelivery | null;
}

export interface WebhookStoreOptions {
  db: Db;
  lanes: LaneStore;
  events: EventLog;
  /** Wakes the agent whose lane got an item. */
  onEnqueued: (agent: string) => void;
  workflows: WebhookWorkflows;
}

export class WebhookStore {
  private readonly options: WebhookStoreOptions;

  constructor(options: WebhookStoreOptions) {
    this.options = options;
  }

  create(input: Omit<WebhookRecord, 'id' | 'created_at'>): WebhookRecord {
    if (this.byName(input.name))
      throw new LegionError(
        'webhook_exists',
        `a webhook named "${input.name}" exists; remove it first or pick another name`,
      );
    // The id is the URL's only guard for a hook without a secret: 144 random bits.
    const record: WebhookRecord = { id: newSecret(18), created_at: new Date().toISOString(), ...input };
    this.options.db
      .prepare(
        'INSERT INTO webhooks (id, name, target_kind, target, secret, scheme, events, filter, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        record.id,
        record.name,
        ...targetColumns(record.target),
        record.secret,
        record.scheme,
        record.events === null ? null : JSON.stringify(record.events),
        record.filter,
        record.message,
        record.created_at,
      );
    return record;
  }

  byId(id: string): WebhookRecord | null {
    const row = this.options.db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE id = ?').get(id);
    return row ? recordOf(row) : null;
  }

  byName(name: string): WebhookRecord | null {
    const row = this.options.db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE name = ?').get(name);
    return row ? recordOf(row) : null;
  }

  list(): (WebhookRecord & { deliveries: number })[] {
    const rows = this.options.db
      .prepare<[], WebhookRow & { deliveries: number }>(
        'SELECT w.*, (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id) AS deliveries FROM webhooks w ORDER BY w.name',
      )
      .all();
    return rows.map((row) => ({ ...recordOf(row), deliveries: row.deliveries }));
  }

  /** Removes the hook and its seen signatures; its deliveries stay readable. */
  remove(name: string): WebhookRecord | null {
    const { db } = this.options;
    return db.transaction(() => {
      const hook = this.byName(name);
      if (!hook) return null;
      db.prepare('DELETE FROM webhook_signatures WHERE webhook_id = ?').run(hook.id);
      db.prepare('DELETE FROM webhooks WHERE id = ?').run(hook.id);
      return hook;
    })();
  }

  /** Stores an accepted call on the target's lane (a filtered one as a delivery only), or refuses a replay key seen before. */
  accept(call: IncomingCall): CallOutcome {
    const { db, lanes, events, onEnqueued, workflows } = this.options;
    const { hook } = call;
    const outcome = db.transaction((): CallOutcome => {
      db.prepare('DELETE FROM webhook_signatures WHERE expires_at < ?').run(call.nowS);
      if (call.replay) {
        const fresh = db
          .prepare('INSERT OR IGNORE INTO webhook_signatures (webhook_id, signature, expires_at) VALUES (?, ?, ?)')
          .run(hook.id, call.replay.key, call.replay.expiresAt).changes;
        if (fresh === 0) return { accepted: false, code: 'replayed' };
      }
      const { target } = hook;
      const runs = call.filtered
        ? { run: null, also: [] }
        : workflows.onCall(hook.name, target.kind === 'workflow' ? target.workflow : null, call.payload);
      const deliveryId = call.filtered
        ? newId('whd')
        : target.kind === 'agent'
          ? lanes.enqueue(target.agent, 'webhook', call.body, null)
          : runs.run;
      if (deliveryId === null)
        throw new LegionError(
          'workflow_not_started',
          `webhook ${hook.name} did not start a run of ${webhookTargetLabel(target)}`,
        );
      db.prepare(
        'INSERT INTO webhook_deliveries (id, webhook_id, webhook_name, target_kind, target, content_type, bytes, received_at, filtered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
        deliveryId,
        hook.id,
        hook.name,
        ...targetColumns(hook.target),
        call.contentType,
        call.bytes,
        new Date().toISOString(),
        call.filtered ? 1 : 0,
      );
      return { accepted: true, deliveryId, runs: [...(runs.run === null ? [] : [runs.run]), ...runs.also] };
    })();
    if (outcome.accepted) {
      const agent = targetAgent(hook.target);
      const kind = call.filtered ? 'webhook_filtered' : 'webhook_accepted';
      events.record({
        agent,
        kind,
        subject: hook.name,
        detail: {
          delivery_id: outcome.deliveryId,
          runs: outcome.runs,
          content_type: call.contentType,
          bytes: call.bytes,
        },
        trace: outcome.deliveryId,
      });
      if (agent !== null && !call.filtered) onEnqueued(agent);
    }
    return outcome;
  }

  /** The hook's newest deliveries first, each with where its lane item (or run) is now. */
  recentDeliveries(hookId: string, limit: number): WebhookDelivery[] {
    return this.options.db
      .prepare<[string, number], { id: string }>(
        'SELECT id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY received_at DESC, rowid DESC LIMIT ?',
      )
      .all(hookId, limit)
      .flatMap((row) => this.delivery(row.id) ?? []);
  }

  /** A delivery and where its lane item is, or null for an unknown id. */
  delivery(id: string): WebhookDelivery | null {
    const row = this.options.db
      .prepare<[string], DeliveryRow>(
        'SELECT id, webhook_name, target_kind, target, received_at, filtered FROM webhook_deliveries WHERE id = ?',
      )
      .get(id);
    if (!row) return null;
    const head = {
      delivery_id: row.id,
      webhook: row.webhook_name,
      target: targetOf(row.target_kind, row.target),
      received_at: row.received_at,
    };
    if (row.filtered === 1) return { ...head, status: 'filtered', attempts: 0, reply: null, error: null };
    if (head.target.kind === 'workflow') {
      const run = this.options.workflows.delivery(id);
      return {
        ...head,
        ...(run ?? { status: 'failed', attempts: 0, reply: null, error: 'the workflow run of this delivery is gone' }),
      };
    }
    const item = this.options.lanes.get(id);
    return {
      ...head,
      // The lane item goes with the delivery; were it ever missing, nothing will deliver it.
      status: item?.status ?? 'failed',
      attempts: item?.attempts ?? 0,
      reply: item?.reply ?? null,
      error: item ? item.last_error : 'the lane item of this delivery is gone',
    };
  }
}
