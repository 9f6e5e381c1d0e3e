// Results out of DuckDuckGo's HTML endpoint (html.duckduckgo.com/html/): each organic
// result is an <a class="result__a"> title link followed by an <a class="result__snippet">;
// links go through DuckDuckGo's redirect (//duckduckgo.com/l/?uddg=<target>), which is
// undone here. Ads (result--ad, y.js links) are skipped. A page with neither results
// nor DuckDuckGo's "no results" marker is not an answer (a bot check, a changed page):
// parseDuckDuckGoHtml says so instead of returning an empty list.
import type { SearchResult } from '../../shared/wire/search.js';
import { decodeEntities, htmlToText } from './html-text.js';

export type DuckDuckGoPage = { ok: true; results: SearchResult[] } | { ok: false; reason: string };

function attribute(attrs: string, name: string): string | null {
  const match = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(attrs);
  return match ? decodeEntities(match[2] ?? match[3] ?? '') : null;
}

/** The target of a DuckDuckGo redirect link, or the link itself when it is direct. */
export function resultTarget(href: string): string | null {
  const absolute = href.startsWith('//') ? `https:${href}` : href;
  if (!URL.canParse(absolute)) return null;
  const url = new URL(absolute);
  if (url.hostname.endsWith('duckduckgo.com')) {
    if (url.pathname === '/y.js') return null;
    const target = url.searchParams.get('uddg');
    return target && URL.canParse(target) ? target : null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
}

export function parseDuckDuckGoHtml(html: string, limit: number): DuckDuckGoPage {
  const results: SearchResult[] = [];
  let current: SearchResult | null = null;
  let titles = 0;
  for (const match of html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi)) {
    const attrs = match[1] ?? '';
    const classes = (attribute(attrs, 'class') ?? '').split(/\s+/);
    if (classes.includes('result__a')) {
      titles += 1;
      const target = resultTarget(attribute(attrs, 'href') ?? '');
      current = target ? { title: htmlToText(match[2] ?? ''), url: target, snippet: '' } : null;
      if (current && results.length < limit) results.push(current);
    } else if (classes.includes('result__snippet') && current) {
      current.snippet = htmlToText(match[2] ?? '');
      current = null;
    }
  }
  if (titles === 0 && !/class="[^"]*\bno-results\b/.test(html)) {
    return {
      ok: false,
      reason: 'DuckDuckGo answered with a page that has no results list (a bot check, or the page changed)',
    };
  }
  return { ok: true, results };
}
