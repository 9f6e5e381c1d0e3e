// The egress proxy over real sockets on 127.0.0.1, with the real permission matrix (a
// permissions.yaml in a temp project) and the real event log (SQLite in a temp dir):
// 407 without the egress token, 403 with the reason and rule for a refused destination
// (before any tunnel), plain HTTP and CONNECT reaching an allowed local server at the
// checked address, one event per decision, the per-agent cap, and bad requests that do
// no harm. This machine's own addresses (loopback, eth0) open only to an entry naming
// host:port exactly, and a model endpoint never, whatever the allowlist says.
// The last part runs a mesh with agent processes: their environment, and commands
// their exec tool runs, carry the proxy variables with the egress token only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { networkInterfaces, tmpdir } from 'node:os';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../../src/mesh/events/log.js';
import { PermissionMatrix } from '../../src/mesh/permissions/matrix.js';
import { AgentTokens } from '../../src/mesh/http/agent-auth.js';
import { EgressProxy } from '../../src/mesh/egress/proxy.js';
import { egressProxyEnv } from '../../src/mesh/egress/proxy-env.js';
import type { Resolver } from '../../src/mesh/egress/destination.js';
import { modelEndpoints } from '../../src/mesh/egress/model-endpoints.js';
import { createLogger } from '../../src/shared/logging.js';
import { freePort } from '../helpers/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Exact host:port entries for the local servers; `legacy` has the bare 127.0.0.1 that once opened every local port. */
const permissionsYaml = (target: number, closed: number, llm: number) => `agents:
  scout:
    allowed_domains: ["127.0.0.1:${target}", "allowed.test:${target}", "127.0.0.1:${closed}", "127.0.0.1:${llm}", "localhost:${llm}"]
  busy:
    allowed_domains: ["127.0.0.1:${target}"]
  legacy:
    allowed_domains: ["127.0.0.1", "127.0.0.1:*", "allowed.test"]
    can_use_internet: true
  hermit: {}
`;

// Names only this fake DNS knows: a connection to them proves the proxy used the checked address.
const fakeDns: Resolver = async (host) => {
  if (host === 'allowed.test') return ['127.0.0.1'];
  if (host === 'localhost') return ['127.0.0.1'];
  throw new Error(`getaddrinfo ENOTFOUND ${host}`);
};

/** The mesh's providers in these tests: one local model server, named by loopback address. */
const localModel = modelEndpoints(() => [{ name: 'ollama', baseUrl: `http://127.0.0.1:${llmPort}/v1` }], fakeDns);

let dir: string;
let db: Db;
let events: EventLog;
let permissions: PermissionMatrix;
let proxy: EgressProxy;
let proxyPort: number;
let target: Server;
let targetPort: number;
let closedPort: number;
let llm: Server;
let llmPort: number;
const llmSeen: string[] = [];
const seen: Seen[] = [];
const tokens = new AgentTokens();
let scoutToken: string;
let busyToken: string;
let hermitToken: string;
let legacyToken: string;

function basic(user: string, token: string): string {
  return `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
}

/** An absolute-form request to the proxy, as an HTTP_PROXY client sends it. */
function viaProxy(
  url: string,
  options: { auth?: string; method?: string; body?: string; headers?: Record<string, string>; port?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth) headers['proxy-authorization'] = options.auth;
    const req = request(
      {
        host: '127.0.0.1',
        port: options.port ?? proxyPort,
        method: options.method ?? 'GET',
        path: url,
        headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends CONNECT; resolves with the proxy's answer head and the socket (a tunnel on 200). */
function openTunnel(
  authority: string,
  auth?: string,
  port = proxyPort,
): Promise<{ status: number; head: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = '';
    const onData = (d: Buffer): void => {
      buffer += d.toString('latin1');
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buffer)?.[1] ?? 0);
      resolve({ status, head: buffer, socket });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(
      `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`,
    );
  });
}

/** Reads a socket to its end. */
function readAll(socket: Socket, initial = ''): Promise<string> {
  return new Promise((resolve) => {
    let text = initial;
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => resolve(text));
  });
}

function eventsOf(kind: string): { agent: string | null; subject: string; detail: unknown }[] {
  return events
    .list({ limit: 1000 })
    .filter((e) => e.kind === kind)
    .map(({ agent, subject, detail }) => ({ agent, subject, detail }));
}

beforeAll(async () => {
  // Listening on every address, so that eth0's address would answer if the proxy let it.
  target = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain', 'x-target': 'yes' });
      res.end(`target says hello to ${req.method} ${req.url}${body ? ` with ${body}` : ''}`);
    });
  });
  await new Promise<void>((r) => target.listen(0, '0.0.0.0', r));
  const address = target.address();
  targetPort = typeof address === 'object' && address ? address.port : 0;
  // A stand-in for a local model server (Ollama): the mesh's provider, never an agent's destination.
  llm = createServer((req, res) => {
    llmSeen.push(req.url ?? '');
    res.end('model answer');
  });
  await new Promise<void>((r) => llm.listen(0, '0.0.0.0', r));
  const llmAddress = llm.address();
  llmPort = typeof llmAddress === 'object' && llmAddress ? llmAddress.port : 0;
  closedPort = await freePort();

  dir = mkdtempSync(join(tmpdir(), 'legion-egress-'));
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'permissions.yaml'), permissionsYaml(targetPort, closedPort, llmPort));
  const logger = createLogger({}, { write: () => undefined });
  db = openMeshDb(join(dir, 'mesh.db'), eventsMigrations);
  events = new EventLog(db, logger);
  permissions = new PermissionMatrix({ projectDir: dir, events, logger });
  permissions.load();
  scoutToken = tokens.mint('scout');
  busyToken = tokens.mint('busy');
  hermitToken = tokens.mint('hermit');
  legacyToken = tokens.mint('legacy');

  proxy = new EgressProxy({
    permissions,
    events,
    tokens,
    logger,
    resolve: fakeDns,
    modelEndpoints: localModel,
    limits: { maxConnectionsPerAgent: 2, connectTimeoutMs: 2_000 },
  });
  proxyPort = Number(new URL(await proxy.listen('127.0.0.1', 0)).port);
});

afterAll(async () => {
  await proxy?.close();
  await new Promise((r) => target?.close(r));
  await new Promise((r) => llm?.close(r));
  permissions?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('authentication', () => {
  it('answers 407 with a challenge without credentials, for requests and tunnels', async () => {
    const plain = await viaProxy(`http://127.0.0.1:${targetPort}/`);
    expect(plain.status).toBe(407);
    expect(plain.headers['proxy-authenticate']).toBe('Basic realm="legion egress"');
    expect(plain.body).toMatch(/^proxy_auth_required: /);
    const tunnel = await openTunnel(`127.0.0.1:${targetPort}`);
    expect(tunnel.status).toBe(407);
    expect(tunnel.head).toMatch(/Proxy-Authenticate: Basic realm="legion egress"/);
    tunnel.socket.destroy();
    expect(seen).toEqual([]);
  });

  it('refuses a wrong token, a token of another agent, a revoked token and an unknown scheme', async () => {
    expect((await viaProxy(`http://127.0.0.1:${targetPort}/`, { auth: basic('scout', `${scoutToken}x`) })).status).toBe(
      407,
    );
    expect((await viaProxy(`http://127.0.0.1:${targetPort}/`, { auth: basic('hermit', scoutToken) })).status).toBe(407);
    expect((await viaProxy(`http://127.0.0.1:${targetPort}/`, { auth: `Digest ${scoutToken}` })).status).toBe(407);
    const spare = new AgentTokens();
    const revoked = spare.mint('scout');
    expect((await viaProxy(`http://127.0.0.1:${targetPort}/`, { auth: basic('scout', revoked) })).status).toBe(407);
    expect(seen).toEqual([]);
  });
});

describe('refused destinations', () => {
  it('answers 403 with the reason for a plain request, and the destination sees nothing', async () => {
    const answer = await viaProxy(`http://localhost:${targetPort}/secret`, { auth: basic('scout', scoutToken) });
    expect(answer.status).toBe(403);
    expect(answer.headers['x-legion-error']).toBe('egress_refused');
    expect(answer.body).toBe(
      `egress_refused: scout may not connect to localhost:${targetPort}: localhost is 127.0.0.1, an address of this machine, reachable only through an allowed_domains entry naming exactly "localhost:${targetPort}", whatever can_use_internet says [rule: host_address]\n`,
    );
    expect(seen).toEqual([]);
  });

  it('answers CONNECT with 403 and the reason before any tunnel opens', async () => {
    const tunnel = await openTunnel(`127.0.0.1:${targetPort}`, basic('hermit', hermitToken));
    const rest = await readAll(tunnel.socket, tunnel.head);
    expect(tunnel.status).toBe(403);
    expect(rest).toMatch(
      /egress_refused: hermit may not connect to 127\.0\.0\.1:\d+: 127\.0\.0\.1 is an address of this machine.*\[rule: host_address\]/,
    );
    expect(seen).toEqual([]);
  });

  it('records every refusal with the agent, host:port and the reason', () => {
    const refused = eventsOf('egress_refused');
    expect(refused).toEqual([
      {
        agent: 'scout',
        subject: `localhost:${targetPort}`,
        detail: { method: 'GET', rule: 'host_address', reason: expect.stringMatching(/an address of this machine/) },
      },
      {
        agent: 'hermit',
        subject: `127.0.0.1:${targetPort}`,
        detail: {
          method: 'CONNECT',
          rule: 'host_address',
          reason: expect.stringMatching(/hermit may not connect to 127\.0\.0\.1/),
        },
      },
    ]);
  });
});

describe('allowed destinations', () => {
  it('forwards a plain request with its body and headers, minus the proxy credentials', async () => {
    const answer = await viaProxy(`http://127.0.0.1:${targetPort}/hello?x=1`, {
      auth: basic('scout', scoutToken),
      method: 'POST',
      body: 'ping',
      headers: {
        'content-type': 'text/plain',
        'x-custom': 'kept',
        connection: 'keep-alive, x-hop',
        'x-hop': 'dropped',
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-target']).toBe('yes');
    expect(answer.body).toBe('target says hello to POST /hello?x=1 with ping');
    const request = seen.at(-1);
    expect(request?.headers.host).toBe(`127.0.0.1:${targetPort}`);
    expect(request?.headers['x-custom']).toBe('kept');
    expect(request?.headers['proxy-authorization']).toBeUndefined();
    expect(request?.headers['x-hop']).toBeUndefined();
  });

  it('connects to the address that was checked, keeping the name in Host', async () => {
    const answer = await viaProxy(`http://allowed.test:${targetPort}/named`, { auth: `Bearer ${scoutToken}` });
    expect(answer.status).toBe(200);
    expect(seen.at(-1)?.headers.host).toBe(`allowed.test:${targetPort}`);
  });

  it('tunnels CONNECT to the destination', async () => {
    const tunnel = await openTunnel(`127.0.0.1:${targetPort}`, basic('scout', scoutToken));
    expect(tunnel.status).toBe(200);
    expect(tunnel.head).toBe('HTTP/1.1 200 Connection Established\r\n\r\n');
    tunnel.socket.write(`GET /through-tunnel HTTP/1.1\r\nHost: 127.0.0.1:${targetPort}\r\nConnection: close\r\n\r\n`);
    const response = await readAll(tunnel.socket);
    expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(response).toContain('target says hello to GET /through-tunnel');
  });

  it('records every allowed connection', () => {
    const allowed = eventsOf('egress_allowed');
    expect(allowed).toEqual([
      { agent: 'scout', subject: `127.0.0.1:${targetPort}`, detail: { method: 'POST' } },
      { agent: 'scout', subject: `allowed.test:${targetPort}`, detail: { method: 'GET' } },
      { agent: 'scout', subject: `127.0.0.1:${targetPort}`, detail: { method: 'CONNECT' } },
    ]);
  });

  it('answers 502 when an allowed destination does not answer', async () => {
    const closed = closedPort;
    const answer = await viaProxy(`http://127.0.0.1:${closed}/`, { auth: basic('scout', scoutToken) });
    expect(answer.status).toBe(502);
    expect(answer.body).toMatch(
      new RegExp(`^egress_connect_failed: could not connect to 127\\.0\\.0\\.1:${closed} \\(.*ECONNREFUSED`),
    );
    const tunnel = await openTunnel(`127.0.0.1:${closed}`, basic('scout', scoutToken));
    expect(tunnel.status).toBe(502);
    tunnel.socket.destroy();
  });
});

describe('limits and bad input', () => {
  it('caps open connections per agent, counting tunnels until they close', async () => {
    const first = await openTunnel(`127.0.0.1:${targetPort}`, basic('busy', busyToken));
    const second = await openTunnel(`127.0.0.1:${targetPort}`, basic('busy', busyToken));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(proxy.connections('busy')).toBe(2);
    const third = await viaProxy(`http://127.0.0.1:${targetPort}/`, { auth: basic('busy', busyToken) });
    expect(third.status).toBe(429);
    expect(third.body).toMatch(/busy already has 2 connections open through the egress proxy/);
    expect((await viaProxy(`http://127.0.0.1:${targetPort}/`, { auth: basic('scout', scoutToken) })).status).toBe(200);
    const closedOne = new Promise((r) => first.socket.once('close', r));
    first.socket.destroy();
    await closedOne;
    for (let i = 0; i < 50 && proxy.connections('busy') > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await viaProxy(`http://127.0.0.1:${targetPort}/`, { auth: basic('busy', busyToken) })).status).toBe(200);
    second.socket.destroy();
    expect(
      eventsOf('egress_refused').some((e) => e.agent === 'busy' && /connections open/.test(JSON.stringify(e.detail))),
    ).toBe(true);
  });

  it('answers malformed requests with 400 and keeps serving', async () => {
    const garbage = connect(proxyPort, '127.0.0.1');
    const reply = readAll(garbage);
    garbage.write('\x00\x01 nonsense\r\n\r\n');
    expect(await reply).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    const originForm = await viaProxy('/not-absolute', { auth: basic('scout', scoutToken) });
    expect(originForm.status).toBe(400);
    expect(originForm.body).toMatch(/absolute form/);
    const https = await viaProxy('https://127.0.0.1/', { auth: basic('scout', scoutToken) });
    expect(https.body).toMatch(/CONNECT/);
    const badTunnel = await openTunnel('no-port-here', basic('scout', scoutToken));
    expect(badTunnel.status).toBe(400);
    badTunnel.socket.destroy();
    expect(
      (await viaProxy(`http://127.0.0.1:${targetPort}/still-up`, { auth: basic('scout', scoutToken) })).status,
    ).toBe(200);
  });
});

describe('timeouts', () => {
  let quick: EgressProxy;
  let quickPort: number;

  beforeAll(async () => {
    const logger = createLogger({}, { write: () => undefined });
    const hanging: Resolver = async (host) =>
      host === 'slow.test' ? new Promise<string[]>(() => undefined) : fakeDns(host);
    quick = new EgressProxy({
      permissions,
      events,
      tokens,
      logger,
      resolve: hanging,
      modelEndpoints: localModel,
      limits: { connectTimeoutMs: 200, idleTimeoutMs: 300 },
    });
    quickPort = Number(new URL(await quick.listen('127.0.0.1', 0)).port);
  });
  afterAll(async () => quick?.close());

  it('refuses a destination whose DNS does not answer in time', async () => {
    const answer = await viaProxy('http://slow.test/', { auth: basic('scout', scoutToken), port: quickPort });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatch(/slow\.test could not be resolved \(no DNS answer within 0\.2 s\)/);
  });

  it('closes a tunnel that stays idle, and frees its slot', async () => {
    const tunnel = await openTunnel(`127.0.0.1:${targetPort}`, basic('scout', scoutToken), quickPort);
    expect(tunnel.status).toBe(200);
    expect(quick.connections('scout')).toBe(1);
    const began = Date.now();
    await new Promise((r) => tunnel.socket.once('close', r));
    expect(Date.now() - began).toBeLessThan(3_000);
    for (let i = 0; i < 50 && quick.connections('scout') > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(quick.connections('scout')).toBe(0);
  });
});

/** This machine's first non-loopback IPv4 address (eth0's), if it has one. */
const ownAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe("this machine's addresses", () => {
  it('refuses every local port to a bare 127.0.0.1, 127.0.0.1:* and can_use_internet', async () => {
    const before = seen.length;
    const plain = await viaProxy(`http://127.0.0.1:${targetPort}/admin`, { auth: basic('legacy', legacyToken) });
    expect(plain.status).toBe(403);
    expect(plain.body).toBe(
      `egress_refused: legacy may not connect to 127.0.0.1:${targetPort}: 127.0.0.1 is an address of this machine, reachable only through an allowed_domains entry naming exactly "127.0.0.1:${targetPort}", whatever can_use_internet says [rule: host_address]\n`,
    );
    const tunnel = await openTunnel(`127.0.0.1:${targetPort}`, basic('legacy', legacyToken));
    expect(tunnel.status).toBe(403);
    tunnel.socket.destroy();
    expect((await viaProxy(`http://allowed.test:${targetPort}/`, { auth: basic('legacy', legacyToken) })).body).toMatch(
      /\[rule: host_address\]/,
    );
    expect(seen.length).toBe(before);
  });

  it('refuses other spellings of loopback without asking DNS', async () => {
    for (const host of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]']) {
      const tunnel = await openTunnel(`${host}:${targetPort}`, basic('legacy', legacyToken));
      const answer = await readAll(tunnel.socket, tunnel.head);
      expect(tunnel.status, host).toBe(403);
      expect(answer, host).toMatch(/is an address of this machine.*\[rule: host_address\]/);
    }
  });

  it.skipIf(!ownAddress)(
    "refuses the machine's own non-loopback address, which answers when asked directly",
    async () => {
      const direct = await fetch(`http://${ownAddress}:${targetPort}/direct`);
      expect(await direct.text()).toBe('target says hello to GET /direct');
      const before = seen.length;
      for (const agent of [
        ['legacy', legacyToken],
        ['scout', scoutToken],
      ] as const) {
        const answer = await viaProxy(`http://${ownAddress}:${targetPort}/eth0`, { auth: basic(agent[0], agent[1]) });
        expect(answer.status, agent[0]).toBe(403);
        expect(answer.body, agent[0]).toContain(
          `${ownAddress} is an address of this machine, reachable only through an allowed_domains entry naming exactly "${ownAddress}:${targetPort}"`,
        );
      }
      expect(seen.length).toBe(before);
    },
  );

  it('opens exactly the host:port an entry names', async () => {
    expect((await viaProxy(`http://127.0.0.1:${targetPort}/exact`, { auth: basic('scout', scoutToken) })).status).toBe(
      200,
    );
    const next = await viaProxy('http://127.0.0.1:1/', { auth: basic('scout', scoutToken) });
    expect(next.status).toBe(403);
    expect(next.body).toMatch(/\[rule: host_address\]/);
  });
});

describe('model endpoints', () => {
  it('refuses the local model server even to entries naming it exactly, by plain HTTP and by CONNECT', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const answer = await viaProxy(`http://${host}:${llmPort}/v1/chat/completions`, {
        auth: basic('scout', scoutToken),
        method: 'POST',
        body: '{}',
      });
      expect(answer.status, host).toBe(403);
      expect(answer.body, host).toBe(
        `egress_refused: scout may not connect to ${host}:${llmPort}: it is the endpoint of LLM provider ollama (http://127.0.0.1:${llmPort}/v1), which agents reach only through the mesh's metered LLM route, whatever allowed_domains and can_use_internet say [rule: model_endpoint]\n`,
      );
    }
    const tunnel = await openTunnel(`127.0.0.1:${llmPort}`, basic('scout', scoutToken));
    expect(tunnel.status).toBe(403);
    expect(await readAll(tunnel.socket, tunnel.head)).toMatch(/\[rule: model_endpoint\]/);
    if (ownAddress)
      expect((await viaProxy(`http://${ownAddress}:${llmPort}/`, { auth: basic('legacy', legacyToken) })).body).toMatch(
        /\[rule: model_endpoint\]/,
      );
    expect(llmSeen).toEqual([]);
  });

  it('records each refusal with its rule', () => {
    const rules = eventsOf('egress_refused').map((e) => (e.detail as { rule: string }).rule);
    expect(rules).toContain('model_endpoint');
    expect(rules).toContain('host_address');
  });
});

describe('proxy variables', () => {
  it('carry credentials the proxy accepts, and exempt the mesh host', async () => {
    const env = egressProxyEnv({
      proxyUrl: `http://127.0.0.1:${proxyPort}`,
      agent: 'scout',
      token: scoutToken,
      meshUrl: 'http://172.19.0.1:8420',
    });
    expect(Object.keys(env).sort()).toEqual([
      'HTTPS_PROXY',
      'HTTP_PROXY',
      'NO_PROXY',
      'http_proxy',
      'https_proxy',
      'no_proxy',
    ]);
    expect(env.NO_PROXY).toBe('172.19.0.1,localhost,127.0.0.1');
    const url = new URL(env.http_proxy ?? '');
    expect(url.host).toBe(`127.0.0.1:${proxyPort}`);
    const auth = basic(decodeURIComponent(url.username), decodeURIComponent(url.password));
    expect((await viaProxy(`http://127.0.0.1:${targetPort}/from-env`, { auth })).status).toBe(200);
  });
});

describe('in a running mesh', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      agentsYaml: 'agents:\n  prober:\n    role: prober\n    system_prompt: You probe.\n',
      permissionsYaml: 'agents:\n  prober:\n    allowed_apis: [llm]\n',
    });
  });
  afterAll(async () => harness?.close());

  it('starts each agent with the proxy variables and its egress token, never the mesh token', async () => {
    const env = harness.runtime.launches.get('prober')?.env ?? {};
    const status = await harness.client.status();
    expect(status.egress.proxy_url).toBe(harness.mesh.egressUrl);
    expect(status.egress.host_isolation).toBeNull();
    const proxyUrl = new URL(env.HTTP_PROXY ?? '');
    expect(`${proxyUrl.protocol}//${proxyUrl.host}`).toBe(harness.mesh.egressUrl);
    expect(proxyUrl.username).toBe('prober');
    expect(decodeURIComponent(proxyUrl.password)).not.toBe(harness.runtime.launches.get('prober')?.secrets.mesh_token);
    expect(Object.values(env)).not.toContain(harness.runtime.launches.get('prober')?.secrets.mesh_token);
    expect(env.https_proxy).toBe(env.HTTP_PROXY);
    expect(env.NO_PROXY?.split(',')).toContain(new URL(harness.mesh.agentApiUrl).hostname);
  });

  it('passes the proxy variables on to commands of the exec tool, without the mesh token', async () => {
    const env = harness.runtime.launches.get('prober')?.env ?? {};
    const reply = await harness.say(
      'prober',
      'call exec {"command":"echo proxy=$HTTP_PROXY; echo none=$no_proxy; echo token=${LEGION_AGENT_TOKEN:-absent}"}',
    );
    expect(reply).toContain(`proxy=${env.HTTP_PROXY}`);
    expect(reply).toContain(`none=${env.no_proxy}`);
    expect(reply).toContain('token=absent');
  });

  it('lets the egress token through the proxy and nothing else: it is not a mesh token', async () => {
    const proxyUrl = new URL(harness.runtime.launches.get('prober')?.env.HTTP_PROXY ?? '');
    const egressToken = decodeURIComponent(proxyUrl.password);
    const refused = await fetch(`${harness.mesh.agentApiUrl}/mesh/agent/config`, {
      headers: { authorization: `Bearer ${egressToken}` },
    });
    expect(refused.status).toBe(401);
    const answer = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: proxyUrl.hostname,
          port: Number(proxyUrl.port),
          path: 'http://10.255.255.1/',
          headers: { 'proxy-authorization': basic('prober', egressToken) },
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer).toBe(403);
  });
});
