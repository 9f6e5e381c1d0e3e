// The provider SDKs' fetch (pooled undici request): the request reaches the server as
// sent, the answer streams through chunk by chunk (a streaming call is never buffered
// until its end), the caller's signal cancels it, and the cases it hands to the built-in
// fetch (a redirect) or answers without a body (204) behave as fetch does.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { providerFetch } from '../../../../src/mesh/llm/fetch.js';

let server: Server | null = null;

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = null;
});

describe('providerFetch', () => {
  it('sends the method, headers and body, and answers with status, headers and body', async () => {
    const url = await serve(async (req, res) => {
      const body = await bodyOf(req);
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'r1' });
      res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body }));
    });
    const response = await providerFetch(`${url}/v1/chat`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('r1');
    expect(await response.json()).toEqual({ method: 'POST', auth: 'Bearer k', body: '{"a":1}' });
  });

  it('passes the first chunk on before the server has ended the answer', async () => {
    let finish: () => void = () => {};
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      finish = () => res.end('data: last\n\n');
    });
    const response = await providerFetch(url, { method: 'POST', body: '{}' });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: first\n\n');
    finish();
    let rest = '';
    for (let next = await reader.read(); !next.done; next = await reader.read())
      rest += new TextDecoder().decode(next.value);
    expect(rest).toBe('data: last\n\n');
  });

  it('rejects with an AbortError when the signal fires while waiting for the answer', async () => {
    const url = await serve(() => {});
    const controller = new AbortController();
    const pending = providerFetch(url, { method: 'POST', body: '{}', signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('follows a redirect as fetch does, and answers a 204 with no body', async () => {
    const url = await serve(async (req, res) => {
      await bodyOf(req);
      if (req.url === '/old') res.writeHead(307, { location: '/new' }).end();
      else if (req.url === '/new') res.writeHead(200).end('moved here');
      else res.writeHead(204).end();
    });
    const moved = await providerFetch(`${url}/old`, { method: 'POST', body: '{}' });
    expect(await moved.text()).toBe('moved here');
    const empty = await providerFetch(`${url}/empty`, { method: 'POST', body: '{}' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });
});
