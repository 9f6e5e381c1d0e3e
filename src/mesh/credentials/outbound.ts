// Performs one HTTP(S) request from the mesh for an agent. Invariants: the socket goes
// only to the addresses the destination check approved (the hostname is never resolved
// again, so a DNS answer that changes after the check cannot redirect it), while the
// URL's hostname stays the TLS server name, the certificate's expected name and the
// Host header; no connection is pooled; redirects are not followed; the whole exchange
// ends within the timeout; at most maxBytes + overreadBytes of decoded body are read.
// Errors are LegionErrors whose messages may contain whatever the request held: the
// caller scrubs them before they go anywhere.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { LegionError } from '../../shared/errors.js';
import type { SubstitutedRequest } from './handles.js';

export interface OutboundOptions {
  /** Addresses decideDestination checked for the URL's host; connect only to these. */
  addresses: string[];
  timeoutMs: number;
  /** Body bytes to keep; more means `truncated`. */
  maxBytes: number;
  /** Bytes read past maxBytes, so an occurrence of a secret across the cut is whole when scrubbed. */
  overreadBytes: number;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most maxBytes + overreadBytes, decompressed. */
  body: Buffer;
  truncated: boolean;
}

/** A lookup that answers with the checked addresses, whatever the hostname. */
function pinnedLookup(addresses: string[]): LookupFunction {
  return (_hostname, options, callback) => {
    const pinned = addresses.map((address) => ({ address, family: isIP(address) }));
    if (options.all) callback(null, pinned);
    else callback(null, pinned[0]?.address ?? '', pinned[0]?.family ?? 4);
  };
}

const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

function decoded(response: IncomingMessage): Readable {
  const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return response;
  const decoder = DECODERS[encoding];
  if (!decoder)
    throw new LegionError(
      'http_unsupported_encoding',
      `the server answered with content-encoding ${encoding}, which the mesh cannot decode`,
    );
  // pipeline destroys the decoder with the response's error, so reading it rethrows that.
  return pipeline(response, decoder(), () => undefined);
}

async function readCapped(source: Readable, limit: number): Promise<{ body: Buffer; total: number }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source as AsyncIterable<unknown>) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += buffer.length;
    chunks.push(buffer);
    // Leaving the loop destroys the stream: nothing past the limit is downloaded.
    if (total > limit) break;
  }
  const body = Buffer.concat(chunks);
  return { body: body.length > limit ? body.subarray(0, limit) : body, total };
}

export async function sendOutbound(outbound: SubstitutedRequest, options: OutboundOptions): Promise<RawResponse> {
  const { url } = outbound;
  const where = `${outbound.method} ${url.host}${url.pathname}`;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(outbound.headers)) {
    // The mesh decodes at most gzip, deflate and br, and asks for none of them.
    if (name.toLowerCase() !== 'accept-encoding') headers[name] = value;
  }
  headers['accept-encoding'] = 'identity';
  if (outbound.body !== null) headers['content-length'] = String(Buffer.byteLength(outbound.body));

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  try {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = send(url, {
        method: outbound.method,
        headers,
        lookup: pinnedLookup(options.addresses),
        agent: false,
        signal: controller.signal,
      });
      request.once('response', resolve);
      request.once('error', reject);
      request.end(outbound.body ?? undefined);
    });
    const limit = options.maxBytes + options.overreadBytes;
    const { body, total } = await readCapped(decoded(response), limit);
    response.destroy();
    return { status: response.statusCode ?? 0, headers: response.headers, body, truncated: total > options.maxBytes };
  } catch (err) {
    if (timedOut)
      throw new LegionError('http_timeout', `${where} did not answer in full within ${options.timeoutMs / 1000} s`);
    if (err instanceof LegionError) throw err;
    const reason = err instanceof Error ? err.message || ('code' in err ? String(err.code) : err.name) : String(err);
    throw new LegionError('http_request_failed', `${where} failed: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
}
