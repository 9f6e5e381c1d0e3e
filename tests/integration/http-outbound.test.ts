// sendOutbound against real local servers: it connects to the checked addresses and
// never resolves the hostname itself, keeps the hostname for Host and TLS (SNI and
// certificate checks stay on), caps and decompresses bodies, and keeps to its timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LegionError } from '../../src/shared/errors.js';
import { sendOutbound, type OutboundOptions } from '../../src/mesh/credentials/outbound.js';
import type { SubstitutedRequest } from '../../src/mesh/credentials/handles.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const options = (overrides: Partial<OutboundOptions> = {}): OutboundOptions => ({
  addresses: ['127.0.0.1'],
  timeoutMs: 5000,
  maxBytes: 1000,
  overreadBytes: 100,
  ...overrides,
});
const get = (url: string, headers: Record<string, string> = {}): SubstitutedRequest => ({
  method: 'GET',
  url: new URL(url),
  headers,
  body: null,
});

async function rejection(promise: Promise<unknown>): Promise<LegionError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof LegionError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('sendOutbound', () => {
  let server: Server;
  let port: number;
  const seen: Seen[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.url === '/big') return res.end('x'.repeat(5000));
        if (req.url === '/gzip') {
          res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
          return res.end(gzipSync('y'.repeat(3000)));
        }
        if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000);
        if (req.url === '/odd-encoding') {
          res.writeHead(200, { 'content-encoding': 'compress' });
          return res.end('zzz');
        }
        res.writeHead(201, { 'content-type': 'text/plain', 'x-custom': 'yes' });
        res.end(`echo ${req.method} ${req.url}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('connects to the checked address, not to what the hostname resolves to, and keeps it as Host', async () => {
    const response = await sendOutbound(
      get(`http://service.legion-test.invalid:${port}/hello?q=1`, { 'x-key': 'v' }),
      options(),
    );
    expect(response.status).toBe(201);
    expect(response.body.toString()).toBe('echo GET /hello?q=1');
    expect(response.truncated).toBe(false);
    expect(response.headers['x-custom']).toBe('yes');
    const last = seen.at(-1);
    expect(last?.headers.host).toBe(`service.legion-test.invalid:${port}`);
    expect(last?.headers['x-key']).toBe('v');
    expect(last?.headers['accept-encoding']).toBe('identity');
  });

  it('sends the body with its length', async () => {
    const response = await sendOutbound(
      {
        method: 'POST',
        url: new URL(`http://localhost:${port}/post`),
        headers: { 'content-type': 'text/plain' },
        body: 'héllo',
      },
      options(),
    );
    expect(response.status).toBe(201);
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      body: 'héllo',
      headers: { 'content-length': String(Buffer.byteLength('héllo')) },
    });
  });

  it('reads at most maxBytes + overreadBytes and says the body was cut', async () => {
    const response = await sendOutbound(get(`http://127.0.0.1:${port}/big`), options());
    expect(response.truncated).toBe(true);
    expect(response.body.length).toBe(1100);
  });

  it('decompresses a gzip answer before capping it', async () => {
    const response = await sendOutbound(get(`http://127.0.0.1:${port}/gzip`), options({ maxBytes: 5000 }));
    expect(response.body.toString()).toBe('y'.repeat(3000));
    expect(response.truncated).toBe(false);
  });

  it('refuses an encoding it cannot decode', async () => {
    expect((await rejection(sendOutbound(get(`http://127.0.0.1:${port}/odd-encoding`), options()))).code).toBe(
      'http_unsupported_encoding',
    );
  });

  it('gives up at the timeout with http_timeout', async () => {
    const started = Date.now();
    const error = await rejection(sendOutbound(get(`http://127.0.0.1:${port}/slow`), options({ timeoutMs: 300 })));
    expect(error.code).toBe('http_timeout');
    expect(error.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('reports a refused connection as http_request_failed, naming method, host and path only', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const error = await rejection(sendOutbound(get(`http://127.0.0.1:${closedPort}/x?token=abc`), options()));
    expect(error.code).toBe('http_request_failed');
    expect(error.message).toContain(`GET 127.0.0.1:${closedPort}/x failed: connect ECONNREFUSED`);
    expect(error.message).not.toContain('token=abc');
  });
});

describe('sendOutbound over TLS', () => {
  let dir: string;
  let tls: TlsServer;
  let port: number;
  const serverNames: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'legion-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=service.legion-test.invalid',
      ],
      { stdio: 'ignore' },
    );
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    tls = createTlsServer({
      key,
      cert,
      SNICallback: (name, done) => {
        serverNames.push(name);
        done(null);
      },
    });
    tls.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    port = (tls.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => tls.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the hostname as SNI to the checked address, and still verifies the certificate', async () => {
    const error = await rejection(sendOutbound(get(`https://service.legion-test.invalid:${port}/`), options()));
    expect(serverNames).toEqual(['service.legion-test.invalid']);
    expect(error.code).toBe('http_request_failed');
    expect(error.message).toMatch(/self[- ]signed certificate/);
  });
});
