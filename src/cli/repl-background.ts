// Background work in the REPL: each reply an agent gives to something no person typed
// (cron, heartbeat, webhook, watcher, pub/sub event, message) arrives as a `reply` event
// in the mesh's event log; the REPL prints one line per reply as it happens and keeps
// the full text for `/show <n>`. Following never throws into the REPL: a failed poll
// waits and tries again, and ends when the signal aborts.
import { z } from 'zod';
import { EventListSchema, type EventEntry } from '../shared/wire/events.js';
import type { MeshClient } from './mesh-client.js';

export interface BackgroundReply {
  /** 1-based, for /show. */
  n: number;
  source: string;
  agent: string;
  text: string;
}

const POLL_MS = 1000;

const ReplyDetailSchema = z.object({ text: z.string() });

/** The reply an event carries, or null for any other event. */
export function backgroundReply(event: EventEntry, n: number): BackgroundReply | null {
  if (event.kind !== 'reply' || event.agent === null) return null;
  const detail = ReplyDetailSchema.safeParse(event.detail);
  return detail.success ? { n, source: event.subject, agent: event.agent, text: detail.data.text } : null;
}

/** The one line a background reply gets: source, agent, the reply's first line. */
export function backgroundLine(reply: BackgroundReply): string {
  const first = reply.text.split('\n').find((line) => line.trim() !== '') ?? '';
  const short = first.length > 100 ? `${first.slice(0, 100)}…` : first;
  return `[${reply.source} → ${reply.agent}] ${short}  (/show ${reply.n})`;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function followBackground(
  client: MeshClient,
  onReply: (reply: BackgroundReply) => void,
  signal: AbortSignal,
): Promise<void> {
  let last: number | null = null;
  let n = 0;
  while (!signal.aborted) {
    try {
      const query: string = last === null ? 'limit=1' : `after=${last}`;
      const page = await client.requestJson('GET', `/api/events?${query}`, EventListSchema, undefined, signal);
      if (last !== null) {
        for (const event of page.events) {
          const reply = backgroundReply(event, n + 1);
          if (reply) {
            n += 1;
            onReply(reply);
          }
        }
      }
      last = page.last_id;
      // Short polls, once a second: no request is ever left open against the mesh, so a
      // mesh stopping (in this process, under `legion start`) never waits for the REPL.
      await pause(POLL_MS, signal);
    } catch {
      if (signal.aborted) return;
      await pause(2000, signal);
    }
  }
}
