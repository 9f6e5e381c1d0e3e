// The fetch the mesh's MCP clients use for a remote server: every request is decided by
// the agent's egress rules first (decideDestination, as for POST /mesh/http), and its
// socket goes only to the addresses that check returned (the hostname is never resolved
// again), while the URL's hostname stays the TLS server name and Host header. The body
// streams, so a server's SSE answers arrive as they are sent. Redirects are not followed:
// a 3xx reaches the SDK as is. A refused destination rejects with destination_refused
// naming the rule.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LegionError } from '../../shared/errors.js';
import { decideDestination, type DestinationContext } from '../egress/destination.js';
import type { PermissionChecker } from '../permissions/types.js';

function pinnedLookup(addresses: string[]): LookupFunction {
  return (_hostname, options, callback) => {
    const pinned = addresses.map((address) => ({ address, family: isIP(address) }));
    if (options.all) callback(null, pinned);
    else callback(null, pinned[0]?.address ?? '', pinned[0]?.family ?? 4);
  };
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  return Object.fromEntries(new Headers(headers).entries());
}

function bodyText(body: RequestInit['body']): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  throw new LegionError('mcp_call_failed', 'the MCP client sent a request body that is not text');
}

function toResponse(message: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const status = message.statusCode ?? 502;
  // A Response with a null-body status may not be given a body.
  if (status === 204 || status === 304) {
    message.resume();
    return new Response(null, { status, headers });
  }
  return new Response(Readable.toWeb(message) as ReadableStream<Uint8Array>, { status, headers });
}

export function egressCheckedFetch(
  permissions: Pick<PermissionChecker, 'checkDomain' | 'canUseInternet'>,
  agent: string,
  destinations: DestinationContext,
): FetchLike {
  // Sockets are kept alive between requests (an MCP session is many small calls); a new
  // socket connects to the addresses of the latest check, which every request repeats.
  let checked: string[] = [];
  const lookup: LookupFunction = (hostname, options, callback) => pinnedLookup(checked)(hostname, options, callback);
  const agents = {
    http: new HttpAgent({ keepAlive: true, lookup }),
    https: new HttpsAgent({ keepAlive: true, lookup }),
  };
  return async (input, init = {}) => {
    const url = new URL(input);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const decision = await decideDestination(permissions, agent, { host: url.hostname, port }, destinations);
    if (!decision.allowed) throw new LegionError('destination_refused', decision.reason);
    checked = decision.addresses;
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const message = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = send(url, {
        method: init.method ?? 'GET',
        headers: headerRecord(init.headers),
        agent: https ? agents.https : agents.http,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      request.once('response', resolve);
      request.once('error', reject);
      request.end(bodyText(init.body));
    });
    return toResponse(message);
  };
}
