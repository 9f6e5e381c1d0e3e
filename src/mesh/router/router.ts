// Agent -> agent messages. The message row and the recipient's lane item are written
// in one transaction; the sender gets the delivery id at once and the recipient is
// woken on its lane. Sending never waits for the recipient.
import type { Db, Migration } from '../db.js';
import { newId } from '../../shared/ids.js';
import type { EventLog } from '../events/log.js';
import type { LaneStore } from '../lanes/store.js';
import type { MessageBody } from '../lanes/format.js';

export const routerMigrations: Migration[] = [
  {
    domain: 'router',
    version: 1,
    sql: `CREATE TABLE messages (
      id TEXT PRIMARY KEY,
      from_agent TEXT NOT NULL,
      to_agent TEXT NOT NULL,
      body TEXT NOT NULL,
      delivery_id TEXT NOT NULL,
      trace TEXT,
      at TEXT NOT NULL
    );`,
  },
];

export class MessageRouter {
  private readonly db: Db;
  private readonly lanes: LaneStore;
  private readonly events: EventLog;
  private readonly onEnqueued: (agent: string) => void;

  constructor(options: { db: Db; lanes: LaneStore; events: EventLog; onEnqueued: (agent: string) => void }) {
    this.db = options.db;
    this.lanes = options.lanes;
    this.events = options.events;
    this.onEnqueued = options.onEnqueued;
  }

  send(
    from: string,
    to: string,
    message: string,
    trace: string | null,
  ): { delivery_id: string; message_id: string; to: string } {
    const messageId = newId('msg');
    const body: MessageBody = { message_id: messageId, from, message };
    const deliveryId = this.db.transaction(() => {
      const delivery = this.lanes.enqueue(to, 'message', body, trace);
      this.db
        .prepare(
          'INSERT INTO messages (id, from_agent, to_agent, body, delivery_id, trace, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(messageId, from, to, message, delivery, trace, new Date().toISOString());
      return delivery;
    })();
    this.events.record({
      agent: from,
      kind: 'message',
      subject: to,
      detail: { message_id: messageId, delivery_id: deliveryId },
      trace,
    });
    this.onEnqueued(to);
    return { delivery_id: deliveryId, message_id: messageId, to };
  }
}
