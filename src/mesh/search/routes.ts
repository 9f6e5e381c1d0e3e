// POST /mesh/search on the agent API: a web search the mesh makes for the calling
// agent, so agents need no key and no internet permission for it. Invariants, in
// order: can_search (403 naming the flag), the per-agent rate limit (429 with the
// seconds to wait), the budget (402, when searches have a price); then the configured
// backends are tried in order, Brave → SearXNG → DuckDuckGo, and the first that
// answers wins. Every search that ran is one `web_search` event (query, backend,
// results, the fallbacks with their reasons) and one cost row under its backend;
// when every backend fails the answer is a 502 naming each failure. Config is read at
// each call, so a reloaded mesh.yaml applies to the next search.
import type { FastifyPluginAsync } from 'fastify';
import type { SearchConfig } from '../../shared/config/schema.js';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { WebSearchRequestSchema, type WebSearchResponse } from '../../shared/wire/search.js';
import type { CostMeter } from '../costs/meter.js';
import type { Scrubber } from '../credentials/scrub.js';
import type { EventLog } from '../events/log.js';
import type { FlagChecker } from '../permissions/types.js';
import { configuredBackends } from './backends.js';
import type { SearchRateLimiter } from './rate-limit.js';

export interface SearchRoutesOptions {
  config: () => SearchConfig;
  permissions: FlagChecker;
  events: EventLog;
  costs: Pick<CostMeter, 'reserveSearch' | 'settleSearch'>;
  limiter: SearchRateLimiter;
  /** A LEGION_CRED_* secret by credential name (throws credential_missing). */
  secret: (credential: string) => string;
  /** Scrubs every LEGION_CRED_* value out of backend error texts. */
  scrubber: () => Scrubber;
}

const SUBJECT_MAX_CHARS = 200;

export const searchAgentRoutes: FastifyPluginAsync<SearchRoutesOptions> = async (app, options) => {
  const { permissions, events, costs, limiter } = options;
  app.post('/mesh/search', async (request): Promise<WebSearchResponse> => {
    const body = parseOrThrow(WebSearchRequestSchema, request.body, 'body');
    const agent = request.agentName;
    const trace = request.trace;
    const subject = body.query.slice(0, SUBJECT_MAX_CHARS);
    const allowed = permissions.flag(agent, 'can_search');
    if (!allowed.allowed) {
      events.record({
        agent,
        kind: 'denied',
        subject,
        detail: { permission: 'can_search', reason: allowed.reason },
        trace,
      });
      throw new LegionError('forbidden', allowed.reason);
    }
    const config = options.config();
    const rate = limiter.take(agent, config.rate_limit_per_minute);
    if (rate.action === 'refuse') {
      const message = `${agent} has made ${config.rate_limit_per_minute} web searches in the last minute (search.rate_limit_per_minute in config/mesh.yaml); try again in ${rate.retryAfterS} s`;
      events.record({
        agent,
        kind: 'search_rate_limited',
        subject,
        detail: { per_minute: config.rate_limit_per_minute, retry_after_s: rate.retryAfterS },
        trace,
      });
      throw new LegionError('rate_limited', message);
    }
    const backends = configuredBackends(config, options.secret);
    if (backends.length === 0) {
      throw new LegionError(
        'search_not_configured',
        'no web search backend is configured: set search.brave, search.searxng or leave search.duckduckgo enabled in config/mesh.yaml',
      );
    }
    const reservation = costs.reserveSearch({ agent, trace, priceUsd: config.price_usd });
    const started = Date.now();
    const scrubber = options.scrubber();
    const fellBack: WebSearchResponse['fell_back'] = [];
    for (const backend of backends) {
      try {
        const results = await backend.search({
          query: body.query,
          limit: body.limit,
          timeoutMs: config.timeout_s * 1000,
        });
        costs.settleSearch(reservation, { backend: backend.name, ok: true, latencyMs: Date.now() - started }, trace);
        events.record({
          agent,
          kind: 'web_search',
          subject,
          detail: { backend: backend.name, results: results.length, fell_back: fellBack },
          trace,
        });
        return { backend: backend.name, results, fell_back: fellBack };
      } catch (err) {
        fellBack.push({
          backend: backend.name,
          reason: scrubber.scrub(err instanceof Error ? err.message : String(err)),
        });
      }
    }
    costs.settleSearch(reservation, { backend: null, ok: false, latencyMs: Date.now() - started }, trace);
    events.record({
      agent,
      kind: 'web_search',
      subject,
      detail: { backend: null, results: 0, fell_back: fellBack },
      trace,
    });
    throw new LegionError(
      'search_failed',
      `every web search backend failed: ${fellBack.map((f) => `${f.backend}: ${f.reason}`).join('; ')}`,
    );
  });
};
