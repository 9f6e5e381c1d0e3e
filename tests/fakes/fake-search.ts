// Local stand-ins for the three web_search backends, speaking their real formats:
// the Brave Search API (GET /res/v1/web/search, X-Subscription-Token, answer
// { type: 'search', web: { results } }, errors as { type: 'ErrorResponse', error }),
// a SearXNG instance (GET /search?format=json, 403 when the json format is off) and
// DuckDuckGo's HTML endpoint (POST /html/ with the q form field, results in its
// result__a / result__snippet markup, redirect links, an ad first). Each records the
// requests it saw; `mode` makes one fail the way the real one does.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  backend: 'brave' | 'searxng' | 'duckduckgo';
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeSearch {
  braveUrl: string;
  searxngUrl: string;
  duckduckgoUrl: string;
  seen: SeenRequest[];
  mode: { brave: 'ok' | 'rate_limited'; searxng: 'ok' | 'json_disabled'; duckduckgo: 'ok' | 'bot_check' };
  close: () => Promise<void>;
}

function braveAnswer(query: string, count: number): unknown {
  return {
    type: 'search',
    query: { original: query, more_results_available: true },
    mixed: { type: 'mixed', main: [{ type: 'web', index: 0, all: false }] },
    web: {
      type: 'search',
      family_friendly: true,
      results: Array.from({ length: Math.min(count, 3) }, (_, i) => ({
        type: 'search_result',
        subtype: 'generic',
        title: `Brave result ${i + 1} for <strong>${query}</strong>`,
        url: `https://brave-${i + 1}.example.org/page`,
        description: `The <strong>${query}</strong> page number ${i + 1} &amp; more.`,
        is_source_local: false,
        language: 'en',
        profile: { name: 'Example', url: 'https://example.org', long_name: 'example.org' },
      })),
    },
  };
}

function searxngAnswer(query: string): unknown {
  return {
    query,
    number_of_results: 0,
    results: [1, 2, 3, 4].map((i) => ({
      url: `https://searx-${i}.example.net/`,
      title: `SearXNG result ${i}`,
      content: `About ${query}, result ${i}.`,
      engine: 'duckduckgo',
      parsed_url: ['https', `searx-${i}.example.net`, '/', '', '', ''],
      template: 'default.html',
      engines: ['duckduckgo', 'brave'],
      positions: [i],
      score: 1 / i,
      category: 'general',
    })),
    answers: [],
    corrections: [],
    infoboxes: [],
    suggestions: [],
    unresponsive_engines: [],
  };
}

function duckduckgoPage(query: string): string {
  const result = (href: string, title: string, snippet: string, extra = '') => `
<div class="result results_links results_links_deep web-result ${extra}">
  <div class="links_main links_deep result__body">
    <h2 class="result__title">
      <a rel="nofollow" class="result__a" href="${href}">${title}</a>
    </h2>
    <div class="result__extras"><div class="result__extras__url"><a class="result__url" href="${href}">example</a></div></div>
    <a class="result__snippet" href="${href}">${snippet}</a>
    <div class="clear"></div>
  </div>
</div>`;
  const redirect = (target: string) => `//duckduckgo.com/l/?uddg=${encodeURIComponent(target)}&amp;rut=0b1c2d`;
  return `<!DOCTYPE html><html><head><title>${query} at DuckDuckGo</title></head><body><div id="links" class="results">
${result('https://duckduckgo.com/y.js?ad_domain=ads.example&amp;ad_provider=bing', 'An <b>ad</b>', 'Buy things', 'result--ad')}
${result(redirect('https://ddg-1.example.com/a?x=1&y=2'), `First <b>${query}</b> hit`, `Snippet one about <b>${query}</b> &amp; friends`)}
${result(redirect('https://ddg-2.example.com/'), 'Second hit', 'Snippet two &#x27;quoted&#x27;')}
</div></body></html>`;
}

export async function startFakeSearch(): Promise<FakeSearch> {
  const seen: SeenRequest[] = [];
  const mode: FakeSearch['mode'] = { brave: 'ok', searxng: 'ok', duckduckgo: 'ok' };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (url.pathname === '/brave/res/v1/web/search' && req.method === 'GET') {
        seen.push({ backend: 'brave', method: req.method, url, headers: req.headers, body });
        if (mode.brave === 'rate_limited') {
          return json(429, {
            type: 'ErrorResponse',
            error: {
              id: 'e1',
              status: 429,
              code: 'RATE_LIMITED',
              detail: 'Request rate limit exceeded for plan.',
              meta: { plan: 'Free', rate_limit: 1 },
            },
            time: 1,
          });
        }
        return json(200, braveAnswer(url.searchParams.get('q') ?? '', Number(url.searchParams.get('count') ?? 20)));
      }
      if (url.pathname === '/searxng/search' && req.method === 'GET') {
        seen.push({ backend: 'searxng', method: req.method, url, headers: req.headers, body });
        if (mode.searxng === 'json_disabled' || url.searchParams.get('format') !== 'json') {
          res.writeHead(403, { 'content-type': 'text/html' });
          return res.end('<html><body>403 Forbidden</body></html>');
        }
        return json(200, searxngAnswer(url.searchParams.get('q') ?? ''));
      }
      if (url.pathname === '/ddg/html/' && req.method === 'POST') {
        seen.push({ backend: 'duckduckgo', method: req.method, url, headers: req.headers, body });
        const query = new URLSearchParams(body).get('q') ?? '';
        res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8' });
        return res.end(
          mode.duckduckgo === 'bot_check'
            ? '<html><body><form id="challenge-form">Unfortunately, bots use DuckDuckGo too.</form></body></html>'
            : duckduckgoPage(query),
        );
      }
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    braveUrl: `${base}/brave/res/v1/web/search`,
    searxngUrl: `${base}/searxng`,
    duckduckgoUrl: `${base}/ddg/html/`,
    seen,
    mode,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
