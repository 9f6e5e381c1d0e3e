// Topics and subscriptions. A publish and its deliveries (one lane item per
// subscriber) are written in one transaction before the publisher hears "accepted",
// so an accepted event is never lost. Subscribers are re-checked against the
// permission matrix at publish time, so revoking can_subscribe takes effect at once.
// A subscriber whose lane is full (mesh.lane_depth_cap) does not get the event, and
// only it: the publish still reaches the others, and the refusal is in the answer
// (`refused`) and in the event log (delivery_refused), never silent. `published` tells
// of each publish inside its transaction, so what a listener starts (a workflow run) is
// as durable, and a listener that throws refuses the publish.
import picomatch from 'picomatch';
import type { Db, Migration } from '../db.js';
import { newId } from '../../shared/ids.js';
import { LegionError } from '../../shared/errors.js';
import type { EventLog } from '../events/log.js';
import type { LaneStore } from '../lanes/store.js';
import type { PermissionChecker } from '../permissions/types.js';
import type { EventBody } from '../lanes/format.js';
import type { PublishResponse } from '../../shared/wire/fleet.js';
import { Signal } from '../signal.js';

export const pubsubMigrations: Migration[] = [
  {
    domain: 'pubsub',
    version: 1,
    sql: `CREATE TABLE subscriptions (
      agent TEXT NOT NULL,
      topic TEXT NOT NULL,
      source TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (agent, topic)
    );
    CREATE TABLE published (
      id TEXT PRIMARY KEY,
      topic TEXT NOT NULL,
      payload TEXT NOT NULL,
      publisher TEXT NOT NULL,
      trace TEXT,
      at TEXT NOT NULL
    );`,
  },
];

export interface Subscription {
  agent: string;
  topic: string;
  source: 'config' | 'runtime';
}

export interface PubSubOptions {
  db: Db;
  lanes: LaneStore;
  events: EventLog;
  permissions: PermissionChecker;
  /** Agents currently configured; deliveries go only to them. */
  knownAgents: () => string[];
  /** Told after commit which lanes got work. */
  onEnqueued: (agent: string) => void;
}

export interface Published {
  topic: string;
  payload: unknown;
}

export function topicMatches(pattern: string, topic: string): boolean {
  return pattern === topic || (/[*?]/.test(pattern) && picomatch.isMatch(topic, pattern, { dot: true }));
}

export class PubSub {
  private readonly options: PubSubOptions;
  /** Every publish, subscribers or not, inside its transaction (workflow triggers). */
  readonly published = new Signal<Published>();

  constructor(options: PubSubOptions) {
    this.options = options;
  }

  /** Returns false when the agent was already subscribed to exactly this topic. */
  subscribe(agent: string, topic: string, source: Subscription['source']): boolean {
    const result = this.options.db
      .prepare(
        'INSERT INTO subscriptions (agent, topic, source, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (agent, topic) DO NOTHING',
      )
      .run(agent, topic, source, new Date().toISOString());
    return result.changes > 0;
  }

  unsubscribe(agent: string, topic: string): boolean {
    return (
      this.options.db.prepare('DELETE FROM subscriptions WHERE agent = ? AND topic = ?').run(agent, topic).changes > 0
    );
  }

  /** Makes the config-sourced subscriptions exactly `wanted`; runtime ones stay. */
  syncConfig(wanted: Record<string, string[]>): void {
    const { db } = this.options;
    db.transaction(() => {
      db.prepare("DELETE FROM subscriptions WHERE source = 'config'").run();
      for (const [agent, topics] of Object.entries(wanted)) {
        for (const topic of topics) {
          db.prepare(
            "INSERT INTO subscriptions (agent, topic, source, created_at) VALUES (?, ?, 'config', ?) ON CONFLICT (agent, topic) DO UPDATE SET source = 'config'",
          ).run(agent, topic, new Date().toISOString());
        }
      }
    })();
  }

  /** Forgets every subscription of a removed agent. */
  forget(agent: string): void {
    this.options.db.prepare('DELETE FROM subscriptions WHERE agent = ?').run(agent);
  }

  list(agent?: string): Subscription[] {
    const { db } = this.options;
    return agent
      ? db
          .prepare<[string], Subscription>(
            'SELECT agent, topic, source FROM subscriptions WHERE agent = ? ORDER BY topic',
          )
          .all(agent)
      : db.prepare<[], Subscription>('SELECT agent, topic, source FROM subscriptions ORDER BY agent, topic').all();
  }

  publish(publisher: string, topic: string, payload: unknown, trace: string | null): PublishResponse {
    const { db, lanes, events, permissions, knownAgents, onEnqueued } = this.options;
    const eventId = newId('evt');
    const known = new Set(knownAgents());
    const receivers = [
      ...new Set(
        this.list()
          .filter((s) => s.agent !== publisher && known.has(s.agent) && topicMatches(s.topic, topic))
          .filter((s) => permissions.check(s.agent, 'can_subscribe', topic).allowed)
          .map((s) => s.agent),
      ),
    ];
    const body: EventBody = { event_id: eventId, topic, payload, publisher };
    const refused: PublishResponse['refused'] = [];
    const deliveries = db.transaction(() => {
      db.prepare('INSERT INTO published (id, topic, payload, publisher, trace, at) VALUES (?, ?, ?, ?, ?, ?)').run(
        eventId,
        topic,
        JSON.stringify(payload),
        publisher,
        trace,
        new Date().toISOString(),
      );
      this.published.emit({ topic, payload });
      return receivers.flatMap((agent) => {
        try {
          return [{ agent, delivery: lanes.enqueue(agent, 'event', body, trace) }];
        } catch (err) {
          if (!(err instanceof LegionError) || err.code !== 'lane_full') throw err;
          refused.push({ agent, reason: err.message });
          return [];
        }
      });
    })();
    for (const { agent, reason } of refused) {
      events.record({
        agent,
        kind: 'delivery_refused',
        subject: topic,
        detail: { event_id: eventId, publisher, code: 'lane_full', reason },
        trace,
      });
    }
    events.record({
      agent: publisher,
      kind: 'publish',
      subject: topic,
      detail: { event_id: eventId, deliveries, refused: refused.map((r) => r.agent) },
      trace,
    });
    for (const { agent } of deliveries) onEnqueued(agent);
    return { event_id: eventId, topic, deliveries: deliveries.length, refused };
  }
}
