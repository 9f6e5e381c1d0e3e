// The event that makes background work visible: when an agent answers something no
// person is waiting on (a pub/sub delivery, a message, cron, a heartbeat, a webhook, a
// file watcher), its reply is recorded in the event log, so `legion logs` shows it.
// Chat turns are shown to the person who asked and workflow tasks as step results, so
// they get none. The text is capped: the event log is for reading, not for archives.
import type { NewEvent } from '../events/log.js';
import type { LaneItem } from './store.js';
import { HEARTBEAT_OK } from '../../shared/wire/heartbeat.js';

export const REPLY_EVENT_MAX_CHARS = 2000;

export function replyEvent(item: Pick<LaneItem, 'id' | 'agent' | 'kind' | 'trace'>, reply: string): NewEvent | null {
  if (item.kind === 'chat' || item.kind === 'task') return null;
  // A heartbeat's "nothing to report" is shown nowhere (see triggers/heartbeat).
  if (item.kind === 'heartbeat' && reply.trim() === HEARTBEAT_OK) return null;
  const text =
    reply.length > REPLY_EVENT_MAX_CHARS
      ? `${reply.slice(0, REPLY_EVENT_MAX_CHARS)}… (${reply.length} characters in all)`
      : reply;
  return { agent: item.agent, kind: 'reply', subject: item.kind, detail: { item: item.id, text }, trace: item.trace };
}
