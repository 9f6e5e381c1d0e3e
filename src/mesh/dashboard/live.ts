// GET /ui/api/live: the dashboard's live stream (server-sent events). New event-log
// entries go out as they are recorded; the fleet snapshot (health, lanes, today's
// spend) is sent at once and then whenever it differs from the last one sent, checked
// on every new event and at least every POLL_MS (health and lane depth change without
// an event). The stream ends when the browser leaves or the mesh stops.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { encodeSse } from '../../shared/sse.js';
import type { FleetSnapshot, LiveMessage } from '../../shared/wire/dashboard.js';
import type { EventLog } from '../events/log.js';

const POLL_MS = 1_000;
const EVENTS_PER_MESSAGE = 200;

export interface LiveFeedOptions {
  events: EventLog;
  snapshot: () => Promise<FleetSnapshot>;
}

/** `closing` aborts when the mesh stops, which would otherwise wait for the browser to leave. */
export async function streamLive(
  request: FastifyRequest,
  reply: FastifyReply,
  { events, snapshot }: LiveFeedOptions,
  closing: AbortSignal,
): Promise<void> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  request.raw.on('close', stop);
  if (closing.aborted) stop();
  else closing.addEventListener('abort', stop, { once: true });
  reply.hijack();
  const raw = reply.raw;
  // The security headers set by the dashboard's hook live on the reply, which hijack bypasses.
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  const send = (message: LiveMessage) => void (!raw.writableEnded && !raw.destroyed && raw.write(encodeSse(message)));
  let lastId = events.tail({ limit: 1 }).at(-1)?.id ?? 0;
  let lastFleet = '';
  try {
    while (!abort.signal.aborted) {
      const fleet = await snapshot();
      const text = JSON.stringify(fleet);
      if (text !== lastFleet) {
        lastFleet = text;
        send({ type: 'fleet', fleet });
      }
      for (;;) {
        const batch = events.list({ afterId: lastId, limit: EVENTS_PER_MESSAGE });
        if (batch.length === 0) break;
        lastId = batch.at(-1)?.id ?? lastId;
        send({ type: 'events', events: batch });
      }
      await events.waitForNext(POLL_MS, abort.signal);
    }
  } catch (err) {
    request.log.warn({ err, event: 'dashboard_live_failed' }, 'dashboard live stream ended on an error');
  } finally {
    // One listener per stream on the mesh-wide signal: gone with the stream.
    closing.removeEventListener('abort', stop);
    raw.end();
  }
}
