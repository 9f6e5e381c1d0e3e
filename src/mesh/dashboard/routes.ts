// The dashboard under /ui on the admin listener, outside the admin-token scope: the
// browser never holds the admin token. /ui/login trades a one-time code for a session
// cookie; every other path needs that session, and every path passes the Host/Origin
// check of guard.ts first. /ui/api/* forwards a short allowlist of admin API calls
// (`forward` adds the admin token inside the mesh), so the dashboard shows exactly
// what the CLI shows, validated by the same routes; /ui/api/live streams changes.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseOrThrow } from '../../shared/validate.js';
import type { DashboardAccess } from './access.js';
import { SESSION_TTL_MS } from './access.js';
import { refusalHtml, type DashboardAssets } from './assets.js';
import { allowedHosts, judgeRequest, readCookie, SESSION_COOKIE, sessionCookie } from './guard.js';
import { streamLive, type LiveFeedOptions } from './live.js';
import { relayStream, type StreamCall } from './relay.js';

export interface ForwardedReply {
  status: number;
  contentType: string;
  body: string;
}

export interface DashboardRoutesOptions {
  access: DashboardAccess;
  assets: DashboardAssets;
  /** The admin listener's configured host and actual port, for the Host/Origin check. */
  address: () => { host: string; port: number };
  /** One admin API call made inside the mesh with the admin token. */
  forward: (method: ForwardedMethod, url: string, body: unknown) => Promise<ForwardedReply>;
  /** One streamed admin API call (a chat turn), relayed chunk by chunk. */
  stream: StreamCall;
  live: LiveFeedOptions;
}

export type ForwardedMethod = 'GET' | 'POST' | 'PUT';

/** The admin API calls the dashboard may make, by method and path below /api. Nothing
 *  here stops the mesh, adds or removes agents, hooks or jobs, or deletes a key. */
const FORWARDED: ReadonlyArray<{ method: ForwardedMethod; path: RegExp }> = [
  { method: 'GET', path: /^\/status$/ },
  { method: 'GET', path: /^\/events$/ },
  { method: 'GET', path: /^\/costs(\/daily)?$/ },
  { method: 'POST', path: /^\/agents\/[^/]+\/(reset|restart)$/ },
  { method: 'GET', path: /^\/agents\/[^/]+\/history$/ },
  { method: 'GET', path: /^\/workflows$/ },
  { method: 'POST', path: /^\/workflows\/[^/]+\/runs$/ },
  { method: 'GET', path: /^\/workflow-runs(\/[^/]+(\/graph|\/steps\/[^/]+)?)?$/ },
  { method: 'GET', path: /^\/blackboard$/ },
  { method: 'GET', path: /^\/blackboard\/(entries|history)\/.+$/ },
  { method: 'PUT', path: /^\/blackboard\/entries\/.+$/ },
  { method: 'GET', path: /^\/cron\/jobs(\/[^/]+\/runs)?$/ },
  { method: 'GET', path: /^\/heartbeat$/ },
  { method: 'GET', path: /^\/webhooks(\/[^/]+\/deliveries)?$/ },
];

const LoginQuery = z.strictObject({ code: z.string().min(1).max(200) });

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function isApi(url: string): boolean {
  return url.startsWith('/ui/api/');
}

export const dashboardRoutes: FastifyPluginAsync<DashboardRoutesOptions> = async (app, options) => {
  const { access, assets } = options;
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());

  app.addHook('onRequest', async (request, reply) => {
    void reply.headers(SECURITY_HEADERS);
    const { host, port } = options.address();
    const verdict = judgeRequest(
      {
        method: request.method,
        host: request.headers.host,
        origin: request.headers.origin,
        needsSession: request.routeOptions.url !== '/ui/login',
        hasSession: access.isSession(readCookie(request.headers.cookie, SESSION_COOKIE)),
      },
      allowedHosts(host, port),
    );
    if (verdict.action === 'serve') return;
    if (isApi(request.url))
      return reply.status(verdict.status).send({ error: { code: verdict.code, message: verdict.message } });
    return reply.status(verdict.status).type('text/html; charset=utf-8').send(refusalHtml(verdict.message));
  });

  app.get('/ui/login', async (request, reply) => {
    const { code } = parseOrThrow(LoginQuery, request.query, 'query');
    const session = access.redeem(code);
    if (!session) {
      return reply
        .status(401)
        .type('text/html; charset=utf-8')
        .send(
          refusalHtml(
            'This login link is used or expired (a link works once, within a minute). Run `legion dashboard` again for a new one.',
          ),
        );
    }
    options.live.events.record({ agent: null, kind: 'dashboard_login', subject: 'dashboard' });
    return reply.header('set-cookie', sessionCookie(session, SESSION_TTL_MS / 1000)).redirect('/ui/', 303);
  });

  const shell = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').send(assets.shell());
  app.get('/ui', shell);
  app.get('/ui/', shell);

  app.get('/ui/assets/:file', async (request, reply) => {
    const { file } = parseOrThrow(z.object({ file: z.string() }), request.params, 'params');
    const asset = assets.get(file);
    if (!asset) return reply.status(404).send({ error: { code: 'not_found', message: `no dashboard file ${file}` } });
    return reply.type(asset.type).send(asset.body);
  });

  app.get('/ui/api/live', async (request, reply) => streamLive(request, reply, options.live, closing.signal));

  // Any other path under /ui: after the session check, so it tells a stranger nothing.
  app.get('/ui/*', async (request, reply) =>
    reply
      .status(404)
      .type('text/html; charset=utf-8')
      .send(refusalHtml(`No page ${request.url}.`)),
  );

  // The chat turn is streamed (relay.ts) rather than forwarded whole.
  app.post('/ui/api/agents/:name/chat', async (request, reply) =>
    relayStream(request, reply, `/api${request.url.slice('/ui/api'.length).split('?')[0] ?? ''}`, options.stream),
  );

  app.route({
    method: ['GET', 'POST', 'PUT'],
    url: '/ui/api/*',
    handler: async (request, reply) => {
      const [path = '', query] = request.url.slice('/ui/api'.length).split(/\?(.*)/s);
      const method: ForwardedMethod = request.method === 'POST' || request.method === 'PUT' ? request.method : 'GET';
      if (!FORWARDED.some((entry) => entry.method === method && entry.path.test(path))) {
        return reply
          .status(404)
          .send({ error: { code: 'not_found', message: `the dashboard has no ${method} ${path}` } });
      }
      const answer = await options.forward(method, `/api${path}${query ? `?${query}` : ''}`, request.body);
      return reply.status(answer.status).type(answer.contentType).send(answer.body);
    },
  });
};
