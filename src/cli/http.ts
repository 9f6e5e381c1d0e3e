// One HTTP exchange with the mesh's admin API over node:http. Not fetch: its first call
// loads undici and compiles its WebAssembly parser, about 50 ms of `legion chat -m`.
// The admin API is plain HTTP on 127.0.0.1, so nothing of fetch is missing here.
import { request as httpRequest, type IncomingMessage } from 'node:http';

export interface HttpAnswer {
  status: number;
  ok: boolean;
  /** The body as it arrives (read it once: by iterating, text() or json()). */
  body: AsyncIterable<Buffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

interface HttpCall {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Rejects on a connection failure or an abort (with the signal's reason). */
export function send(url: string, call: HttpCall): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers =
      call.body === undefined ? call.headers : { ...call.headers, 'content-length': `${Buffer.byteLength(call.body)}` };
    const req = httpRequest(url, { method: call.method, headers, signal: call.signal }, (response) => {
      const status = response.statusCode ?? 0;
      resolve({
        status,
        ok: status >= 200 && status < 300,
        body: response,
        text: () => readAll(response),
        json: async () => JSON.parse(await readAll(response)),
      });
    });
    req.on('error', reject);
    req.end(call.body);
  });
}
