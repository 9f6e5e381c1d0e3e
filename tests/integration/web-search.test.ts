// web_search through the real mesh and a real agent process, against local stand-ins
// that speak the Brave Search API, SearXNG's JSON format and DuckDuckGo's HTML page:
// the mesh sends each backend its real request (Brave's key from LEGION_CRED_*, never
// shown to the agent), falls back Brave → SearXNG → DuckDuckGo, refuses agents without
// can_search and agents past the per-minute limit, records each search as an event and
// books it in `legion costs` at the configured price.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostReportSchema } from '../../src/shared/wire/costs.js';
import { EventListSchema, type EventEntry } from '../../src/shared/wire/events.js';
import { startFakeSearch, type FakeSearch } from '../fakes/fake-search.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const BRAVE_KEY = 'brave-key-5f4e3d2c1b0a';
const PER_MINUTE = 4;

const PERMISSIONS = `agents:
  searcher: { allowed_apis: [llm], can_search: true }
  hasty: { allowed_apis: [llm], can_search: true }
  walker: { allowed_apis: [llm] }
`;

describe('web_search through the mesh', () => {
  let h: Harness;
  let search: FakeSearch;
  const ask = (agent: string, args: unknown) => h.say(agent, `call web_search ${JSON.stringify(args)}`);
  const events = async (kind: string): Promise<EventEntry[]> =>
    (await h.client.requestJson('GET', '/api/events?limit=1000', EventListSchema)).events.filter(
      (e) => e.kind === kind,
    );

  beforeAll(async () => {
    search = await startFakeSearch();
    h = await startHarness({
      agentsYaml:
        'agents:\n  searcher:\n    role: searches\n  hasty:\n    role: searches a lot\n  walker:\n    role: may not search\n',
      permissionsYaml: PERMISSIONS,
      env: { LEGION_CRED_BRAVE_API_KEY: BRAVE_KEY },
      meshYaml: (port) =>
        [
          `mesh: { host: 127.0.0.1, port: ${port} }`,
          'llm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}',
          'search:',
          `  brave: { url: "${search.braveUrl}" }`,
          `  searxng: { url: "${search.searxngUrl}" }`,
          `  duckduckgo: { url: "${search.duckduckgoUrl}" }`,
          '  price_usd: 0.005',
          `  rate_limit_per_minute: ${PER_MINUTE}`,
          '',
        ].join('\n'),
    });
  });
  afterAll(async () => {
    await h?.close();
    await search?.close();
  });

  it('asks Brave first, with its key, and gives the model title, URL and snippet', async () => {
    const reply = await ask('searcher', { query: 'legion agents', limit: 2 });
    const request = search.seen.at(-1);
    expect(request?.backend).toBe('brave');
    expect(request?.headers['x-subscription-token']).toBe(BRAVE_KEY);
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.url.searchParams.get('q')).toBe('legion agents');
    expect(request?.url.searchParams.get('count')).toBe('2');
    expect(reply).toContain('tool web_search returned: 2 result(s) for "legion agents" (searched with brave)');
    expect(reply).toContain(
      '1. Brave result 1 for legion agents\n   https://brave-1.example.org/page\n   The legion agents page number 1 & more.',
    );
    expect(reply).toContain('2. Brave result 2');
    expect(reply).not.toContain('3. ');
    expect(reply).not.toContain(BRAVE_KEY);
  });

  it('falls back to SearXNG when Brave refuses, and to DuckDuckGo when SearXNG does too', async () => {
    search.mode.brave = 'rate_limited';
    const viaSearx = await ask('searcher', { query: 'fallback one', limit: 3 });
    expect(viaSearx).toContain('3 result(s) for "fallback one" (searched with searxng)');
    expect(viaSearx).toContain(
      '1. SearXNG result 1\n   https://searx-1.example.net/\n   About fallback one, result 1.',
    );
    const searxRequest = search.seen.at(-1);
    expect(searxRequest?.url.pathname).toBe('/searxng/search');
    expect(searxRequest?.url.searchParams.get('format')).toBe('json');

    search.mode.searxng = 'json_disabled';
    const viaDdg = await ask('searcher', { query: 'fallback two' });
    const ddgRequest = search.seen.at(-1);
    expect(ddgRequest?.backend).toBe('duckduckgo');
    expect(new URLSearchParams(ddgRequest?.body).get('q')).toBe('fallback two');
    // The ad is skipped and DuckDuckGo's redirect links are undone.
    expect(viaDdg).toContain('2 result(s) for "fallback two" (searched with duckduckgo)');
    expect(viaDdg).toContain(
      '1. First fallback two hit\n   https://ddg-1.example.com/a?x=1&y=2\n   Snippet one about fallback two & friends',
    );
    expect(viaDdg).toContain("2. Second hit\n   https://ddg-2.example.com/\n   Snippet two 'quoted'");
    expect(viaDdg).not.toContain('ad_domain');

    const recorded = (await events('web_search')).filter((e) => e.subject === 'fallback two');
    expect(recorded).toHaveLength(1);
    const detail = recorded[0]?.detail as {
      backend: string;
      results: number;
      fell_back: { backend: string; reason: string }[];
    };
    expect(detail.backend).toBe('duckduckgo');
    expect(detail.results).toBe(2);
    expect(detail.fell_back.map((f) => f.backend)).toEqual(['brave', 'searxng']);
    expect(detail.fell_back[0]?.reason).toContain('HTTP 429');
    expect(detail.fell_back[1]?.reason).toContain('HTTP 403');
  });

  it('names every backend that failed when none answers', async () => {
    search.mode.duckduckgo = 'bot_check';
    const reply = await ask('searcher', { query: 'nothing works' });
    expect(reply).toContain('every web search backend failed');
    expect(reply).toContain('brave: the Brave Search API answered HTTP 429');
    expect(reply).toContain('searxng: the SearXNG instance');
    expect(reply).toContain('duckduckgo: DuckDuckGo answered with a page that has no results list');
    Object.assign(search.mode, { brave: 'ok', searxng: 'ok', duckduckgo: 'ok' });
  });

  it('refuses an agent without can_search, naming the flag, before any backend is asked', async () => {
    const before = search.seen.length;
    const reply = await ask('walker', { query: 'forbidden' });
    expect(reply).toContain('walker may not search the web (web_search): can_search is false');
    expect(search.seen.length).toBe(before);
    const denied = (await events('denied')).find((e) => e.agent === 'walker' && e.subject === 'forbidden');
    expect(denied?.detail).toMatchObject({ permission: 'can_search' });
  });

  it('refuses searches past the per-minute limit of the agent', async () => {
    for (let i = 0; i < PER_MINUTE; i++)
      expect(await ask('hasty', { query: `burst ${i}` })).toContain('(searched with brave)');
    const before = search.seen.length;
    const refused = await ask('hasty', { query: 'one too many' });
    expect(refused).toMatch(
      /hasty has made 4 web searches in the last minute \(search\.rate_limit_per_minute in config\/mesh\.yaml\); try again in \d+ s/,
    );
    expect(search.seen.length).toBe(before);
    expect((await events('search_rate_limited')).map((e) => e.subject)).toEqual(['one too many']);
  });

  it('books each search in legion costs under its backend at the configured price', async () => {
    const report = await h.client.requestJson('GET', '/api/costs?period=today', CostReportSchema);
    const rows = report.rows.filter((r) => r.model.endsWith('/web_search'));
    const row = (agent: string, model: string) => rows.find((r) => r.agent === agent && r.model === model);
    expect(row('searcher', 'brave/web_search')).toMatchObject({ calls: 1, failed: 0, cost_usd: 0.005 });
    expect(row('searcher', 'searxng/web_search')).toMatchObject({ calls: 1, failed: 0, cost_usd: 0.005 });
    expect(row('searcher', 'duckduckgo/web_search')).toMatchObject({ calls: 1, failed: 0, cost_usd: 0.005 });
    // The search no backend answered is a failed row that costs nothing.
    expect(row('searcher', 'search/web_search')).toMatchObject({ calls: 1, failed: 1, cost_usd: 0 });
    expect(row('hasty', 'brave/web_search')).toMatchObject({ calls: PER_MINUTE, cost_usd: 0.02 });
    expect(rows.some((r) => r.agent === 'walker')).toBe(false);
  });
});
