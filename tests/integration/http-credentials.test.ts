// Credential handles through the real mesh and a real agent process: a fake-model turn
// calls http_request with $CRED{demo}; a local server sees the real secret, while the
// agent's reply, the event log and the mesh's own log never do. Denials (credential,
// destination) reach the model with the rule, and whatever credential a server echoes
// back, in whatever escaping, is scrubbed. The destination check is the egress proxy's:
// an address of this machine only at the exact host:port listed, and never the model
// provider's endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventListSchema } from '../../src/shared/wire/events.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

// Characters that JSON, URLs and HTML each escape, so every echo below is an escaped one.
const DEMO_SECRET = 'demo-S3cr3t/value+x=y_<42>"q"';
const OTHER_SECRET = 'other-credential-9f8e7d6c5b';

/** courier may reach the test server's port, and (to no avail) the fake provider's. */
const permissions = (serverPort: number, providerPort: string) => `agents:
  courier:
    allowed_apis: [llm]
    allowed_credentials: [demo, ghost]
    allowed_domains: ["127.0.0.1:${serverPort}", "127.0.0.1:${providerPort}"]
  walker:
    allowed_apis: [llm]
    allowed_credentials: [demo]
    can_use_internet: true
`;

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('http_request with credential handles', () => {
  let h: Harness;
  let server: Server;
  let base: string;
  const received: Received[] = [];

  /** Every form a secret could take in text handed back: as is, JSON-escaped, percent-encoded. */
  const forms = (secret: string) => [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)];
  const expectNoSecret = (text: string) => {
    for (const secret of [DEMO_SECRET, OTHER_SECRET, h.project.secret])
      for (const form of forms(secret)) expect(text).not.toContain(form);
  };
  const call = (agent: string, args: unknown) => h.say(agent, `call http_request ${JSON.stringify(args)}`);

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.url === '/leak') {
          // A server that knows other secrets (the provider key, another credential) and sends them.
          res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end(`other=${OTHER_SECRET} provider=${h.project.secret}`);
        }
        res.writeHead(200, { 'content-type': 'application/json', location: req.url ?? '/', 'set-cookie': 'session=1' });
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    h = await startHarness({
      agentsYaml: 'agents:\n  courier:\n    role: calls services\n  walker:\n    role: may not leave\n',
      permissionsYaml: (fake) => permissions((server.address() as AddressInfo).port, new URL(fake.openaiBaseUrl).port),
      env: { LEGION_CRED_DEMO: `'${DEMO_SECRET}'`, LEGION_CRED_OTHER: OTHER_SECRET },
    });
  });
  afterAll(async () => {
    await h?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('sends the real secret to the server and shows the agent only the scrubbed answer', async () => {
    const reply = await call('courier', {
      method: 'GET',
      url: `${base}/echo?token=$CRED{demo}&page=2`,
      headers: { 'x-api-key': '$CRED{demo}' },
    });
    const seen = received.at(-1);
    expect(seen?.headers['x-api-key']).toBe(DEMO_SECRET);
    expect(new URL(seen?.url ?? '', base).searchParams.get('token')).toBe(DEMO_SECRET);

    expect(reply).toContain('tool http_request returned: HTTP 200');
    expect(reply).toContain('content-type: application/json');
    expect(reply).toContain('location: /echo?token=[REDACTED]&page=2');
    expect(reply).toContain('"x-api-key":"[REDACTED]"');
    expect(reply).not.toContain('set-cookie');
    expectNoSecret(reply);
  });

  it('puts the secret into a JSON body, escaped, and scrubs its echo', async () => {
    const reply = await call('courier', {
      method: 'POST',
      url: `${base}/json`,
      body: { auth: { key: '$CRED{demo}' }, n: 1 },
    });
    const seen = received.at(-1);
    expect(seen?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen?.body ?? '')).toEqual({ auth: { key: DEMO_SECRET }, n: 1 });
    expect(reply).toContain('HTTP 200');
    expect(reply).toContain('[REDACTED]');
    expectNoSecret(reply);
  });

  it('scrubs every LEGION_CRED_* value a server sends back, used or not', async () => {
    const reply = await call('courier', { method: 'GET', url: `${base}/leak` });
    expect(reply).toContain('other=[REDACTED] provider=[REDACTED]');
    expectNoSecret(reply);
  });

  it('refuses a handle outside allowed_credentials with the rule, before anything is sent', async () => {
    const before = received.length;
    const reply = await call('courier', {
      method: 'GET',
      url: `${base}/echo`,
      headers: { authorization: 'Bearer $CRED{other}' },
    });
    expect(reply).toContain('courier may not use the credential other: allowed_credentials is ["demo","ghost"]');
    expect(received.length).toBe(before);
  });

  it('names the variable to set for a handle with no secret', async () => {
    const reply = await call('courier', {
      method: 'GET',
      url: `${base}/echo`,
      headers: { authorization: 'Bearer $CRED{ghost}' },
    });
    expect(reply).toContain('$CRED{ghost} has no secret: set LEGION_CRED_GHOST');
  });

  it('refuses an address of this machine no entry names exactly, whatever can_use_internet says', async () => {
    const before = received.length;
    const reply = await call('walker', { method: 'GET', url: `${base}/echo`, headers: { 'x-api-key': '$CRED{demo}' } });
    const port = new URL(base).port;
    expect(reply).toContain(
      `walker may not connect to 127.0.0.1:${port}: 127.0.0.1 is an address of this machine, reachable only through an allowed_domains entry naming exactly "127.0.0.1:${port}"`,
    );
    expect(reply).toContain('[rule: host_address]');
    expect(received.length).toBe(before);
  });

  it("refuses the model provider's endpoint even when allowed_domains names it", async () => {
    const reply = await call('courier', {
      method: 'POST',
      url: `${h.fake.openaiBaseUrl}/chat/completions`,
      body: '{}',
    });
    expect(reply).toContain(
      `courier may not connect to 127.0.0.1:${new URL(h.fake.openaiBaseUrl).port}: it is the endpoint of LLM provider openai`,
    );
    expect(reply).toContain('[rule: model_endpoint]');
    const { events } = await h.client.requestJson('GET', '/api/events?limit=1000', EventListSchema);
    expect(events).toContainEqual(
      expect.objectContaining({
        agent: 'courier',
        kind: 'denied',
        subject: '127.0.0.1',
        detail: expect.objectContaining({ rule: 'model_endpoint' }),
      }),
    );
    expect(events.filter((e) => e.kind === 'http_request' && e.subject.includes('/chat/completions'))).toEqual([]);
  });

  it('refuses a handle in the path, where the event log would show it', async () => {
    const reply = await call('courier', { method: 'GET', url: `${base}/$CRED{demo}` });
    expect(reply).toContain("may not appear in the URL's path");
  });

  it('records each call and each denial without a secret, and keeps secrets out of the mesh log', async () => {
    const { events } = await h.client.requestJson('GET', '/api/events?limit=1000', EventListSchema);
    const port = new URL(base).port;
    expect(events).toContainEqual(
      expect.objectContaining({
        agent: 'courier',
        kind: 'http_request',
        subject: `GET 127.0.0.1:${port}/echo`,
        detail: { status: 200, credentials: ['demo'] },
        trace: expect.any(String),
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        agent: 'courier',
        kind: 'http_request',
        subject: `POST 127.0.0.1:${port}/json`,
        detail: { status: 200, credentials: ['demo'] },
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        agent: 'courier',
        kind: 'denied',
        subject: 'other',
        detail: expect.objectContaining({ permission: 'allowed_credentials' }),
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        agent: 'walker',
        kind: 'denied',
        subject: '127.0.0.1',
        detail: expect.objectContaining({ permission: 'allowed_domains' }),
      }),
    );
    expectNoSecret(JSON.stringify(events));

    const log = h.meshLog();
    expect(log).toContain('mesh_listening');
    expectNoSecret(log);
  });
});
