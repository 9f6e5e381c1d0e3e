// The three web_search backends, each one HTTP call in the backend's own format:
// - Brave Search API: GET <url>?q=&count= with X-Subscription-Token; answer
//   { web: { results: [{ title, url, description }] } } (descriptions carry <strong>).
// - SearXNG: GET <instance>/search?q=&format=json; answer { results: [{ url, title, content }] }
//   (403 when the instance does not enable the json format).
// - DuckDuckGo: POST the q form field to the HTML endpoint; results parsed from the page.
// Invariants: each call is bounded by the timeout; any failure (network, status, body
// not in the expected shape) throws a BackendFailure whose message says what, so the
// caller can fall back to the next backend; no secret is ever part of a message.
import { z } from 'zod';
import type { SearchConfig } from '../../shared/config/schema.js';
import type { SearchBackend, SearchResult } from '../../shared/wire/search.js';
import { parseDuckDuckGoHtml } from './duckduckgo-html.js';
import { htmlToText } from './html-text.js';

export class BackendFailure extends Error {}

export interface BackendCall {
  query: string;
  limit: number;
  timeoutMs: number;
}

export interface Backend {
  name: SearchBackend;
  search(call: BackendCall): Promise<SearchResult[]>;
}

const USER_AGENT = 'legion-web-search/1 (+https://github.com/legion)';

const BraveAnswerSchema = z.object({
  web: z
    .object({ results: z.array(z.object({ title: z.string(), url: z.string(), description: z.string().optional() })) })
    .optional(),
});

const SearxngAnswerSchema = z.object({
  results: z.array(z.object({ url: z.string(), title: z.string(), content: z.string().nullish() })),
});

async function fetchText(url: string, init: RequestInit, timeoutMs: number, what: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (err) {
    const cause =
      err instanceof Error && err.name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000} s`
        : err instanceof Error
          ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`
          : String(err);
    throw new BackendFailure(`${what} could not be reached: ${cause}`);
  }
  const text = await response.text().catch(() => '');
  if (!response.ok)
    throw new BackendFailure(
      `${what} answered HTTP ${response.status}${text ? `: ${text.replace(/\s+/g, ' ').slice(0, 200)}` : ''}`,
    );
  return text;
}

function parseJson<S extends z.ZodType>(text: string, schema: S, what: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BackendFailure(`${what} answered with something that is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new BackendFailure(
      `${what} answered JSON that is not in its search format (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`,
    );
  return parsed.data;
}

export function braveBackend(config: NonNullable<SearchConfig['brave']>, apiKey: () => string): Backend {
  return {
    name: 'brave',
    async search({ query, limit, timeoutMs }) {
      const url = new URL(config.url);
      url.searchParams.set('q', query);
      url.searchParams.set('count', String(limit));
      const text = await fetchText(
        url.toString(),
        { headers: { accept: 'application/json', 'x-subscription-token': apiKey(), 'user-agent': USER_AGENT } },
        timeoutMs,
        'the Brave Search API',
      );
      const answer = parseJson(text, BraveAnswerSchema, 'the Brave Search API');
      return (answer.web?.results ?? [])
        .slice(0, limit)
        .map((r) => ({ title: htmlToText(r.title), url: r.url, snippet: htmlToText(r.description ?? '') }));
    },
  };
}

export function searxngBackend(config: NonNullable<SearchConfig['searxng']>): Backend {
  return {
    name: 'searxng',
    async search({ query, limit, timeoutMs }) {
      const url = new URL('search', config.url.endsWith('/') ? config.url : `${config.url}/`);
      url.searchParams.set('q', query);
      url.searchParams.set('format', 'json');
      const what = `the SearXNG instance ${new URL(config.url).host}`;
      const text = await fetchText(
        url.toString(),
        { headers: { accept: 'application/json', 'user-agent': USER_AGENT } },
        timeoutMs,
        what,
      );
      const answer = parseJson(text, SearxngAnswerSchema, what);
      return answer.results
        .slice(0, limit)
        .map((r) => ({ title: htmlToText(r.title), url: r.url, snippet: htmlToText(r.content ?? '') }));
    },
  };
}

export function duckDuckGoBackend(config: SearchConfig['duckduckgo']): Backend {
  return {
    name: 'duckduckgo',
    async search({ query, limit, timeoutMs }) {
      const body = new URLSearchParams({ q: query, b: '' }).toString();
      const html = await fetchText(
        config.url,
        {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'text/html',
            'user-agent': USER_AGENT,
          },
        },
        timeoutMs,
        'DuckDuckGo',
      );
      const page = parseDuckDuckGoHtml(html, limit);
      if (!page.ok) throw new BackendFailure(page.reason);
      return page.results;
    },
  };
}

/** The configured backends in fallback order: Brave, SearXNG, DuckDuckGo. */
export function configuredBackends(config: SearchConfig, secret: (credential: string) => string): Backend[] {
  const backends: Backend[] = [];
  const { brave, searxng, duckduckgo } = config;
  if (brave) backends.push(braveBackend(brave, () => secret(brave.credential)));
  if (searxng) backends.push(searxngBackend(searxng));
  if (duckduckgo.enabled) backends.push(duckDuckGoBackend(duckduckgo));
  return backends;
}
