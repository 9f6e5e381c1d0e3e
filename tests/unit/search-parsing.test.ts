// Pure pieces of web_search: DuckDuckGo's HTML page (results, its "no results" page,
// a page that is neither) and the per-agent sliding-minute rate limit.
import { describe, expect, it } from 'vitest';
import { parseDuckDuckGoHtml, resultTarget } from '../../src/mesh/search/duckduckgo-html.js';
import { decideRate, SearchRateLimiter } from '../../src/mesh/search/rate-limit.js';

describe('parseDuckDuckGoHtml', () => {
  it('reads an empty result page as no results, and a page without a results list as a failure', () => {
    expect(parseDuckDuckGoHtml('<div class="no-results">No results.</div>', 5)).toEqual({ ok: true, results: [] });
    expect(parseDuckDuckGoHtml('<html><body>Please verify you are human</body></html>', 5)).toMatchObject({
      ok: false,
    });
  });

  it('undoes redirect links, drops ads and other schemes, and keeps at most `limit` results', () => {
    expect(resultTarget('//duckduckgo.com/l/?uddg=https%3A%2F%2Fa.example%2Fx%3Fy%3D1&rut=z')).toBe(
      'https://a.example/x?y=1',
    );
    expect(resultTarget('https://duckduckgo.com/y.js?ad_domain=x')).toBeNull();
    expect(resultTarget('javascript:alert(1)')).toBeNull();
    const html = [1, 2, 3]
      .map(
        (i) =>
          `<a class="result__a" href="https://r${i}.example/">R${i}</a><a class="result__snippet" href="#">S${i}</a>`,
      )
      .join('');
    expect(parseDuckDuckGoHtml(html, 2)).toEqual({
      ok: true,
      results: [
        { title: 'R1', url: 'https://r1.example/', snippet: 'S1' },
        { title: 'R2', url: 'https://r2.example/', snippet: 'S2' },
      ],
    });
  });
});

describe('search rate limit', () => {
  it('allows `perMinute` calls in any minute and says when the next one fits', () => {
    expect(decideRate([1_000, 2_000], 30_000, 3)).toEqual({ action: 'allow' });
    expect(decideRate([1_000, 2_000, 3_000], 30_000, 3)).toEqual({ action: 'refuse', retryAfterS: 31 });
    expect(decideRate([1_000, 2_000, 3_000], 61_500, 3)).toEqual({ action: 'allow' });
  });

  it('counts each agent apart and never counts a refused call', () => {
    let now = 0;
    const limiter = new SearchRateLimiter(() => now);
    expect(limiter.take('a', 1)).toEqual({ action: 'allow' });
    expect(limiter.take('b', 1)).toEqual({ action: 'allow' });
    now = 30_000;
    expect(limiter.take('a', 1)).toMatchObject({ action: 'refuse' });
    now = 60_001;
    expect(limiter.take('a', 1)).toEqual({ action: 'allow' });
  });
});
