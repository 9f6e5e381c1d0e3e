// POST /mesh/http on the agent API: the mesh performs an HTTP request for the calling
// agent, putting secrets where the agent wrote `$CRED{name}`. Invariants, in order:
// every handle must match the agent's allowed_credentials and the destination must
// pass decideDestination (each denial a 403 naming the rule, recorded), and only then
// is any secret read; the socket goes to the addresses that check returned; nothing
// that held a secret is logged; every text that leaves this route (body, headers,
// error messages, event subjects) is scrubbed of every LEGION_CRED_* value; each
// performed call is one `http_request` event naming the handles it used, never values.
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { HTTP_RESPONSE_MAX_BYTES, HttpRequestSchema, type HttpResponse } from '../../shared/wire/http.js';
import { decideDestination, normalizeHost, type DestinationContext } from '../egress/destination.js';
import type { EventLog } from '../events/log.js';
import { assertAllowed, type PermissionChecker } from '../permissions/types.js';
import { requestHandles, substituteHandles } from './handles.js';
import { sendOutbound } from './outbound.js';
import type { Scrubber } from './scrub.js';
import type { CredentialStore } from './store.js';

export interface HttpAgentRoutesOptions {
  credentials: CredentialStore;
  permissions: PermissionChecker;
  events: EventLog;
  /** DNS, this machine's addresses and the model endpoints, for the destination check. */
  destinations: DestinationContext;
}

// Enough to read an answer and act on it; cookies and the like stay in the mesh.
const RETURNED_HEADERS = new Set([
  'cache-control',
  'content-disposition',
  'content-language',
  'content-length',
  'content-type',
  'date',
  'etag',
  'expires',
  'last-modified',
  'link',
  'location',
  'retry-after',
  'www-authenticate',
  'x-request-id',
]);
const RETURNED_HEADER_PREFIXES = ['ratelimit-', 'x-ratelimit-'];
const HEADER_VALUE_MAX_CHARS = 2048;

function returnedHeaders(headers: IncomingHttpHeaders, scrubber: Scrubber): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (!RETURNED_HEADERS.has(name) && !RETURNED_HEADER_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    kept[name] = scrubber.scrub((Array.isArray(value) ? value.join(', ') : value).slice(0, HEADER_VALUE_MAX_CHARS));
  }
  return kept;
}

/** The longest start of `text` whose UTF-8 form fits in `maxBytes`, never splitting a character. */
function cutUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let cut = Buffer.from(text).subarray(0, maxBytes).toString('utf8');
  // A character split by the byte cut decodes as U+FFFD; drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut;
}

function scrubbedError(err: unknown, scrubber: Scrubber): LegionError {
  if (err instanceof LegionError) return new LegionError(err.code, scrubber.scrub(err.message));
  return new LegionError('http_request_failed', scrubber.scrub(err instanceof Error ? err.message : String(err)));
}

export const httpAgentRoutes: FastifyPluginAsync<HttpAgentRoutesOptions> = async (
  app,
  { credentials, permissions, events, destinations },
) => {
  app.post('/mesh/http', async (request): Promise<HttpResponse> => {
    const body = parseOrThrow(HttpRequestSchema, request.body, 'body');
    const who = { agent: request.agentName, trace: request.trace };
    const handles = requestHandles(body);
    for (const name of handles) assertAllowed(permissions, events, who, 'allowed_credentials', name);

    const url = new URL(body.url);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const destination = await decideDestination(permissions, who.agent, { host: url.hostname, port }, destinations);
    if (!destination.allowed) {
      events.record({
        agent: who.agent,
        kind: 'denied',
        subject: normalizeHost(url.hostname),
        detail: { permission: 'allowed_domains', rule: destination.rule, reason: destination.reason },
        trace: who.trace,
      });
      throw new LegionError('destination_refused', destination.reason);
    }

    const scrubber = credentials.scrubber();
    const outbound = substituteHandles(body, (name) => credentials.secret(name));
    const subject = scrubber.scrub(`${body.method} ${url.host}${url.pathname}`);
    try {
      const raw = await sendOutbound(outbound, {
        addresses: destination.addresses,
        timeoutMs: body.timeout_s * 1000,
        maxBytes: HTTP_RESPONSE_MAX_BYTES,
        overreadBytes: scrubber.maxOccurrenceChars * 4,
      });
      // Scrubbed before the cut, so an occurrence across the cut is still whole when replaced.
      const text = scrubber.scrub(raw.body.toString('utf8'));
      const response: HttpResponse = {
        status: raw.status,
        headers: returnedHeaders(raw.headers, scrubber),
        body: raw.truncated ? cutUtf8(text, HTTP_RESPONSE_MAX_BYTES) : text,
        truncated: raw.truncated,
      };
      events.record({
        agent: who.agent,
        kind: 'http_request',
        subject,
        detail: { status: raw.status, credentials: handles },
        trace: who.trace,
      });
      return response;
    } catch (err) {
      const error = scrubbedError(err, scrubber);
      events.record({
        agent: who.agent,
        kind: 'http_request',
        subject,
        detail: { status: null, error: error.code, credentials: handles },
        trace: who.trace,
      });
      throw error;
    }
  });
};
