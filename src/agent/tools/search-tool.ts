// The web_search tool: the mesh searches the web for this agent (Brave, SearXNG or
// DuckDuckGo, whichever is configured and answers first), so the agent needs no key
// and no internet permission. The model reads numbered results: title, URL, snippet.
import { WebSearchRequestSchema, WebSearchResponseSchema, type WebSearchResponse } from '../../shared/wire/search.js';
import type { MeshRpc } from './mesh-rpc.js';
import { defineTool, type Tool } from './registry.js';

export function formatSearchResults(query: string, answer: WebSearchResponse): string {
  if (answer.results.length === 0) return `no results for "${query}" (searched with ${answer.backend})`;
  const lines = [`${answer.results.length} result(s) for "${query}" (searched with ${answer.backend})`];
  answer.results.forEach((result, i) => {
    lines.push('', `${i + 1}. ${result.title}`, `   ${result.url}`);
    if (result.snippet) lines.push(`   ${result.snippet}`);
  });
  return lines.join('\n');
}

export function createSearchTool(mesh: MeshRpc): Tool {
  return defineTool({
    name: 'web_search',
    description:
      'Search the web. Returns title, URL and snippet of each result (limit: how many, default 5, at most 20). Open a result with http_request or the browser tools when you may reach its site.',
    schema: WebSearchRequestSchema,
    run: async (args, ctx) => {
      const answer = await mesh.call('/mesh/search', args, WebSearchResponseSchema, ctx.trace);
      return { ok: true, output: formatSearchResults(args.query, answer) };
    },
  });
}
