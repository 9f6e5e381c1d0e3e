// POST /ui/api/agents/:name/chat: the chat turn of `legion chat`, relayed to the browser
// as it streams. app.inject (the `forward` of the other /ui/api calls) answers only once
// the whole reply is in, so this one goes to the mesh's own admin listener over HTTP with
// the admin token and copies each chunk of server-sent events as it arrives. The browser
// leaving aborts the upstream request, which the chat route takes as the person leaving.
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Opens one streamed admin API call inside the mesh; the caller reads and ends the body. */
export type StreamCall = (url: string, body: unknown, signal: AbortSignal) => Promise<Response>;

export async function relayStream(
  request: FastifyRequest,
  reply: FastifyReply,
  url: string,
  open: StreamCall,
): Promise<void> {
  const abort = new AbortController();
  reply.raw.on('close', () => abort.abort());
  const upstream = await open(url, request.body, abort.signal);
  const contentType = upstream.headers.get('content-type') ?? 'application/json; charset=utf-8';
  if (!upstream.body || !contentType.startsWith('text/event-stream')) {
    // A refusal before the stream started (unknown agent, bad body): the admin API's own answer.
    return reply
      .status(upstream.status)
      .type(contentType)
      .send(await upstream.text());
  }
  reply.hijack();
  const raw = reply.raw;
  // The dashboard's security headers were set on the reply, which hijack bypasses.
  raw.writeHead(upstream.status, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': contentType,
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  raw.flushHeaders();
  try {
    for await (const chunk of upstream.body) {
      if (raw.destroyed) break;
      raw.write(chunk);
    }
  } catch (err) {
    if (!abort.signal.aborted) request.log.warn({ err, event: 'dashboard_chat_relay_failed' }, 'chat relay ended');
  } finally {
    raw.end();
  }
}
