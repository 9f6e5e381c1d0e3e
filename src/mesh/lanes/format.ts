// How a lane item reads to the agent that is woken with it. The id is always in the
// text: at-least-once delivery means an agent may see an item twice, and the id is how
// it tells.
import { z } from 'zod';
import type { LaneItem } from './store.js';

export const EventBodySchema = z.object({
  event_id: z.string(),
  topic: z.string(),
  payload: z.unknown(),
  publisher: z.string(),
});
export const MessageBodySchema = z.object({ message_id: z.string(), from: z.string(), message: z.string() });
/** Every trigger (cron, heartbeat, webhook, watcher) wakes the agent with one text. */
export const TriggerBodySchema = z.object({ source: z.string(), title: z.string(), text: z.string() });
export type EventBody = z.infer<typeof EventBodySchema>;
export type MessageBody = z.infer<typeof MessageBodySchema>;
export type TriggerBody = z.infer<typeof TriggerBodySchema>;

export function laneItemText(item: LaneItem): string {
  if (item.kind === 'event') {
    const body = EventBodySchema.parse(item.body);
    return [
      `[event ${body.topic} · id ${body.event_id} · published by ${body.publisher}]`,
      JSON.stringify(body.payload, null, 2),
      `You are subscribed to "${body.topic}". Act on this event if it calls for it. If you already handled event ${body.event_id}, ignore it.`,
    ].join('\n');
  }
  if (item.kind !== 'message') {
    const body = TriggerBodySchema.parse(item.body);
    return [
      `[${item.kind} ${body.title} · id ${item.id} · from ${body.source}]`,
      body.text,
      `If you already handled ${item.id}, ignore it.`,
    ].join('\n');
  }
  const body = MessageBodySchema.parse(item.body);
  return [
    `[message from ${body.from} · id ${body.message_id}]`,
    body.message,
    `Reply with send_message if ${body.from} needs an answer. If you already handled message ${body.message_id}, ignore it.`,
  ].join('\n');
}
