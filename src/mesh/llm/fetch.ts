// The fetch the provider SDK clients call: undici's request API over one keep-alive
// connection pool, wrapped as a WHATWG Response. Node's built-in fetch implements the
// whole Fetch spec per call (a Request object, a web stream for the body and a tee of it
// for redirects, the response cloned through more web streams), which profiled as the
// largest single cost of a proxied call. Invariants: the answer's body is streamed as it
// arrives (never buffered), so streaming calls pass chunks through; the caller's signal
// cancels the request and its body; anything this path does not handle the way fetch
// would (a body that is not text or bytes, a redirect) is handed to the built-in fetch,
// so behaviour never differs from it.
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';

const pool = new Agent({ keepAliveTimeout: 30_000 });

/** Statuses whose Response must have a null body (the constructor throws otherwise). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const REDIRECT = new Set([301, 302, 303, 307, 308]);

type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';

function plainHeaders(init: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

function responseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return headers;
}

/** The body as a web stream read on demand. (Readable.toWeb throws an uncaught
 *  ERR_INVALID_STATE on Node 20 when data arrives after the consumer cancelled.) */
function webBody(body: Readable): ReadableStream<Uint8Array> {
  // A reader learns of a body error from the iterator; this keeps one that happens
  // while nobody reads (before the first read, or after a cancel) from being uncaught.
  body.on('error', () => {});
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await chunks.next();
        if (cancelled) return;
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel() {
        cancelled = true;
        body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

export const providerFetch: typeof fetch = async (input, init) => {
  const body = init?.body;
  const plainBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
  if (!plainBody || !(typeof input === 'string' || input instanceof URL)) return fetch(input, init);
  const answer = await request(input, {
    method: (init?.method ?? 'GET').toUpperCase() as HttpMethod,
    headers: plainHeaders(init?.headers),
    body: body ?? null,
    signal: init?.signal ?? undefined,
    dispatcher: pool,
  });
  if (REDIRECT.has(answer.statusCode) && answer.headers.location !== undefined) {
    await answer.body.dump();
    return fetch(input, init);
  }
  const headers = responseHeaders(answer.headers);
  if (NULL_BODY.has(answer.statusCode)) {
    await answer.body.dump();
    return new Response(null, { status: answer.statusCode, headers });
  }
  return new Response(webBody(answer.body), {
    status: answer.statusCode,
    headers,
  });
};
