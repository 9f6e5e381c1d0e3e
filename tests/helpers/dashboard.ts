// Talking to the dashboard like a browser, or like a hostile page would: raw HTTP with
// any Host, Origin and Cookie headers (fetch forbids setting Host), and the login link
// `legion dashboard` prints.
import { request } from 'node:http';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './project.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  /** Sent as JSON (with its content-type) when given. */
  body?: unknown,
  /** Hears each chunk of the answer as it arrives (a streamed chat turn). */
  onChunk?: (chunk: string) => void,
): Promise<RawResponse> {
  const json = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          host: `127.0.0.1:${port}`,
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          onChunk?.(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(json);
  });
}

/** The login link in the output of `legion dashboard`. */
export function loginLink(stdout: string): URL {
  const match = /http:\/\/\S+\/ui\/login\?code=\S+/.exec(stdout);
  if (!match) throw new Error(`no login link in: ${stdout}`);
  return new URL(match[0]);
}

/** The session cookie's `name=value` from a login answer's Set-Cookie. */
export function sessionFrom(response: RawResponse): string {
  const setCookie = response.headers['set-cookie'];
  const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  if (!first) throw new Error(`no session cookie (status ${response.status}): ${response.body}`);
  return first.split(';')[0] ?? '';
}

/** The dashboard's built files (dist/ui), by name. */
export function dashboardFiles(): string[] {
  return readdirSync(join(REPO_ROOT, 'dist', 'ui'));
}
