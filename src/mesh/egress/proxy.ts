// The egress proxy: the only way from an agent container to anything but the mesh
// (containers get it as HTTP_PROXY/HTTPS_PROXY). It forwards plain HTTP requests in
// absolute form and opens CONNECT tunnels (HTTPS and anything else over TCP).
// Invariants: every request and tunnel carries the agent's egress token in
// Proxy-Authorization (compared in constant time by AgentTokens) or gets 407; every
// destination (host and port) is decided by decideDestination and recorded as one
// egress_allowed or egress_refused event, a refusal naming the rule that refused; an allowed destination is reached at the addresses that were
// checked, never through a second lookup; an agent holds at most
// maxConnectionsPerAgent requests and tunnels at once; DNS, connect and idle time are
// bounded; a malformed request gets a 4xx and nothing a client sends throws out of a
// handler.
import {
  createServer,
  request as httpRequest,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorStatus, LegionError, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import type { EventLog } from '../events/log.js';
import type { AgentTokens } from '../http/agent-auth.js';
import type { PermissionChecker } from '../permissions/types.js';
import { systemHostAddresses } from '../../shared/config/permissions/addresses.js';
import {
  decideDestination,
  normalizeHost,
  systemResolver,
  type DestinationContext,
  type DestinationDecision,
  type Resolver,
} from './destination.js';
import type { ModelEndpointSource } from './model-endpoints.js';

export interface EgressLimits {
  /** Resolving the destination, and separately connecting to it. */
  connectTimeoutMs: number;
  /** A tunnel or forwarded exchange with no traffic either way for this long is closed. */
  idleTimeoutMs: number;
  /** A client must send a complete request head within this. */
  headersTimeoutMs: number;
  maxConnectionsPerAgent: number;
}

export const DEFAULT_EGRESS_LIMITS: EgressLimits = {
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  headersTimeoutMs: 15_000,
  maxConnectionsPerAgent: 64,
};

export interface EgressProxyOptions {
  permissions: PermissionChecker;
  events: EventLog;
  /** Per-agent egress tokens, minted at container start next to the mesh token. */
  tokens: AgentTokens;
  logger: Logger;
  resolve?: Resolver;
  /** This machine's addresses, never reachable unless an entry names host:port exactly; the interfaces' by default. */
  hostAddresses?: () => ReadonlySet<string>;
  /** The providers' LLM and embedding endpoints, never reachable through the proxy. */
  modelEndpoints: ModelEndpointSource;
  limits?: Partial<EgressLimits>;
}

export interface EgressTarget {
  host: string;
  port: number;
}

const REALM = 'Basic realm="legion egress"';

// Headers that describe one hop, not the message (RFC 9110 7.6.1), plus the proxy's own.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The agent that a Proxy-Authorization header proves, or null. With Basic, the user
 *  name must be the agent the token belongs to. */
export function proxyAgent(header: string | undefined, tokens: AgentTokens): string | null {
  if (!header) return null;
  const space = header.indexOf(' ');
  if (space <= 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return tokens.verify(value);
  if (scheme !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  const agent = tokens.verify(decoded.slice(colon + 1));
  return agent !== null && agent === decoded.slice(0, colon) ? agent : null;
}

/** The `host:port` of a CONNECT request (IPv6 in brackets), or null when malformed. */
export function parseConnectTarget(authority: string): EgressTarget | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/@?#]+):(\d{1,5})$/.exec(authority);
  if (!match?.[1] || !match[2]) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  return { host: normalizeHost(match[1]), port };
}

/** How a destination is named in events: host:port, IPv6 in brackets. */
export function targetSubject(target: EgressTarget): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** rawHeaders without hop-by-hop headers, those the Connection header names, and `drop`. */
export function endToEndHeaders(raw: readonly string[], drop: readonly string[] = []): string[] {
  const named = new Set<string>(drop);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === 'connection') {
      for (const token of (raw[i + 1] ?? '').split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    kept.push(name, raw[i + 1] ?? '');
  }
  return kept;
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = 'code' in err && typeof err.code === 'string' ? err.code : null;
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

function connectOne(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // `address` is an IP literal, so net.connect does no lookup of its own.
    const socket = connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${address}:${port} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Connects to the first of the checked addresses that answers, within one deadline. */
async function connectChecked(addresses: readonly string[], port: number, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error('no address to connect to');
  for (const address of addresses) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      return await connectOne(address, port, left);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

function boundedResolver(resolve: Resolver, timeoutMs: number): Resolver {
  return (host) =>
    new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no DNS answer within ${timeoutMs / 1000} s`)), timeoutMs);
      resolve(host).then(
        (addresses) => {
          clearTimeout(timer);
          ok(addresses);
        },
        (err: unknown) => {
          clearTimeout(timer);
          fail(err);
        },
      );
    });
}

/** A complete response written straight to a socket (CONNECT answers, client errors). */
function writeRawResponse(socket: Duplex, code: ErrorCode, message: string, extraHeaders: string[] = []): void {
  const status = errorStatus(code);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${code}: ${message}\n`;
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Legion-Error: ${code}`,
    'Connection: close',
    ...extraHeaders,
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

function reply(res: ServerResponse, code: ErrorCode, message: string, extraHeaders: Record<string, string> = {}): void {
  const status = errorStatus(code);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${code}: ${message}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-legion-error': code,
    ...extraHeaders,
  });
  res.end(body);
}

/** Pipes two sockets into each other until either ends, fails or idles out. */
function splice(client: Duplex, upstream: Socket, idleMs: number): void {
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', destroyBoth);
  upstream.on('error', destroyBoth);
  // A side that closes without ending its stream (reset, destroy) must not leave the other open.
  client.on('close', () => upstream.end());
  upstream.on('close', () => client.end());
  upstream.setTimeout(idleMs, destroyBoth);
  if (client instanceof Socket) client.setTimeout(idleMs, destroyBoth);
  client.pipe(upstream);
  upstream.pipe(client);
}

export class EgressProxy {
  private readonly options: EgressProxyOptions;
  private readonly limits: EgressLimits;
  private readonly destinations: DestinationContext;
  private readonly server: Server;
  private readonly sockets = new Set<Duplex>();
  private readonly active = new Map<string, number>();

  constructor(options: EgressProxyOptions) {
    this.options = options;
    this.limits = { ...DEFAULT_EGRESS_LIMITS, ...options.limits };
    this.destinations = {
      resolve: boundedResolver(options.resolve ?? systemResolver, this.limits.connectTimeoutMs),
      hostAddresses: options.hostAddresses ?? systemHostAddresses,
      modelEndpoints: options.modelEndpoints,
    };
    this.server = createServer();
    this.server.headersTimeout = this.limits.headersTimeoutMs;
    // Uploads through the proxy may take long; idle sockets are what gets cut (below).
    this.server.requestTimeout = 0;
    this.server.setTimeout(this.limits.idleTimeoutMs);
    this.server.on('connection', (socket: Socket) => this.track(socket));
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handleRequest(req, res).catch((err: unknown) =>
        this.unexpected(err, () =>
          reply(res, 'egress_internal', 'the egress proxy failed on this request; see the mesh log'),
        ),
      );
    });
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.handleConnect(req, socket, head).catch((err: unknown) =>
        this.unexpected(err, () =>
          writeRawResponse(socket, 'egress_internal', 'the egress proxy failed on this tunnel; see the mesh log'),
        ),
      );
    });
    this.server.on('clientError', (err: Error, socket: Duplex) => {
      // A browser opens connections ahead of use and may leave one unused past the
      // headers timeout; an answer written there would be read as the answer to the
      // request it sends next. Closed without a word, it is discarded or retried.
      const code = 'code' in err ? err.code : undefined;
      if (
        (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ECONNRESET') &&
        socket instanceof Socket &&
        socket.bytesRead === 0
      ) {
        socket.destroy();
        return;
      }
      writeRawResponse(socket, 'bad_request', `not a valid HTTP proxy request (${errorText(err)})`);
    });
  }

  /** Listens on host:port (0: the system picks) and returns the proxy's URL. */
  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        resolve();
      });
    }).catch((err: unknown) => {
      const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
      if (code === 'EADDRINUSE') {
        throw new LegionError(
          'port_in_use',
          `port ${port} on ${host} is taken, so the egress proxy cannot listen; stop what uses it, or set mesh.egress_port in config/mesh.yaml`,
        );
      }
      if (code === 'EADDRNOTAVAIL') {
        throw new LegionError(
          'address_unavailable',
          `cannot listen for the egress proxy on ${host}: no such address on this machine`,
        );
      }
      throw err;
    });
    const address = this.server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    this.options.logger.info({ event: 'egress_listening', url }, 'egress proxy listening');
    return url;
  }

  /** Stops listening and cuts every open request and tunnel. Idempotent. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Connections in use by `agent` right now (requests being forwarded and open tunnels). */
  connections(agent: string): number {
    return this.active.get(agent) ?? 0;
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private unexpected(err: unknown, answer: () => void): void {
    this.options.logger.error({ event: 'egress_failed', err }, 'egress proxy error');
    try {
      answer();
    } catch {
      // The client is gone; there is no one left to answer.
    }
  }

  /** A slot for one request or tunnel of `agent`; null at the cap. The release is idempotent. */
  private acquire(agent: string): (() => void) | null {
    const inUse = this.active.get(agent) ?? 0;
    if (inUse >= this.limits.maxConnectionsPerAgent) return null;
    this.active.set(agent, inUse + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.active.get(agent) ?? 1) - 1;
      if (left > 0) this.active.set(agent, left);
      else this.active.delete(agent);
    };
  }

  private refused(agent: string, subject: string, method: string, reason: string, rule: string): void {
    this.options.events.record({ agent, kind: 'egress_refused', subject, detail: { reason, method, rule } });
    this.options.logger.info({ agent, event: 'egress_refused', subject, reason, rule }, 'egress refused');
  }

  /** Authentication, the per-agent cap and the destination decision, shared by both paths. */
  private async admit(
    header: string | undefined,
    target: EgressTarget,
    method: string,
  ): Promise<
    | { ok: true; agent: string; addresses: string[]; release: () => void }
    | { ok: false; code: ErrorCode; message: string }
  > {
    const agent = proxyAgent(header, this.options.tokens);
    if (!agent) {
      return {
        ok: false,
        code: 'proxy_auth_required',
        message:
          'the legion egress proxy needs Proxy-Authorization: Basic <agent>:<egress token> (containers get it in HTTP_PROXY)',
      };
    }
    const subject = targetSubject(target);
    const release = this.acquire(agent);
    if (!release) {
      const message = `${agent} already has ${this.limits.maxConnectionsPerAgent} connections open through the egress proxy (the cap per agent); close some first`;
      this.refused(agent, subject, method, message, 'connection_cap');
      return { ok: false, code: 'egress_busy', message };
    }
    let decision: DestinationDecision;
    try {
      decision = await decideDestination(this.options.permissions, agent, target, this.destinations);
    } catch (err) {
      release();
      throw err;
    }
    if (!decision.allowed) {
      release();
      this.refused(agent, subject, method, decision.reason, decision.rule);
      return { ok: false, code: 'egress_refused', message: decision.reason };
    }
    this.options.events.record({ agent, kind: 'egress_allowed', subject, detail: { method } });
    return { ok: true, agent, addresses: decision.addresses, release };
  }

  private connectFailed(agent: string, target: EgressTarget, err: unknown): string {
    const message = `could not connect to ${targetSubject(target)} (${errorText(err)})`;
    this.options.logger.warn(
      { agent, event: 'egress_connect_failed', subject: targetSubject(target), err: errorText(err) },
      'egress connect failed',
    );
    return message;
  }

  /** A plain HTTP request in absolute form: GET http://host/path HTTP/1.1. */
  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', () => res.destroy());
    res.on('error', () => req.destroy());
    const url = req.url && URL.canParse(req.url) ? new URL(req.url) : null;
    if (url?.protocol !== 'http:' || !url.hostname) {
      const hint =
        url?.protocol === 'https:'
          ? 'https:// goes through CONNECT (HTTPS_PROXY does this)'
          : 'send requests in absolute form (http://host/path), as HTTP_PROXY clients do';
      reply(res, 'bad_request', `this is the legion egress proxy: ${hint}`);
      return;
    }
    const target: EgressTarget = { host: normalizeHost(url.hostname), port: url.port ? Number(url.port) : 80 };
    const method = req.method ?? 'GET';
    let clientGone = false;
    res.once('close', () => (clientGone = true));
    const admitted = await this.admit(req.headers['proxy-authorization'], target, method);
    if (!admitted.ok) {
      reply(
        res,
        admitted.code,
        admitted.message,
        admitted.code === 'proxy_auth_required' ? { 'proxy-authenticate': REALM } : {},
      );
      return;
    }
    if (clientGone) {
      admitted.release();
      return;
    }
    res.once('close', admitted.release);
    let socket: Socket;
    try {
      socket = await connectChecked(admitted.addresses, target.port, this.limits.connectTimeoutMs);
    } catch (err) {
      reply(res, 'egress_connect_failed', this.connectFailed(admitted.agent, target, err));
      return;
    }
    if (clientGone) {
      socket.destroy();
      return;
    }
    this.track(socket);
    socket.setTimeout(this.limits.idleTimeoutMs, () =>
      socket.destroy(new Error(`idle for ${this.limits.idleTimeoutMs / 1000} s`)),
    );
    // RFC 9112 3.2.2: with an absolute-form target, Host comes from the target, whatever the client sent.
    const headers = endToEndHeaders(req.rawHeaders, ['host']);
    headers.push('Host', url.host);
    const upstream = httpRequest({
      createConnection: () => socket,
      method,
      path: `${url.pathname}${url.search}`,
      headers,
      setHost: false,
    });
    upstream.on('response', (answer) => {
      answer.on('error', () => res.destroy());
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEndHeaders(answer.rawHeaders));
      answer.pipe(res);
    });
    upstream.on('error', (err) =>
      reply(res, 'egress_upstream_failed', `${targetSubject(target)} failed: ${errorText(err)}`),
    );
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  /** CONNECT host:port: a TCP tunnel, answered 200 only once the destination is connected. */
  private async handleConnect(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    const target = parseConnectTarget(req.url ?? '');
    if (!target) {
      writeRawResponse(client, 'bad_request', `CONNECT needs host:port, got "${(req.url ?? '').slice(0, 200)}"`);
      return;
    }
    const admitted = await this.admit(req.headers['proxy-authorization'], target, 'CONNECT');
    if (!admitted.ok) {
      writeRawResponse(
        client,
        admitted.code,
        admitted.message,
        admitted.code === 'proxy_auth_required' ? [`Proxy-Authenticate: ${REALM}`] : [],
      );
      return;
    }
    client.once('close', admitted.release);
    if (client.destroyed) {
      admitted.release();
      return;
    }
    let upstream: Socket;
    try {
      upstream = await connectChecked(admitted.addresses, target.port, this.limits.connectTimeoutMs);
    } catch (err) {
      writeRawResponse(client, 'egress_connect_failed', this.connectFailed(admitted.agent, target, err));
      return;
    }
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    this.track(upstream);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    splice(client, upstream, this.limits.idleTimeoutMs);
  }
}
