// The wire contract of POST /mesh/search: a web search the mesh performs for an agent
// (the web_search tool's arguments are the request schema, so the two cannot
// disagree), and the results it returns with the backend that produced them.
import { z } from 'zod';

export const SEARCH_LIMIT_DEFAULT = 5;
export const SEARCH_LIMIT_MAX = 20;

export const WebSearchRequestSchema = z.strictObject({
  query: z.string().trim().min(1, 'expected a non-empty query').max(400, 'a query may have at most 400 characters'),
  limit: z
    .number()
    .int()
    .min(1)
    .max(SEARCH_LIMIT_MAX)
    .default(SEARCH_LIMIT_DEFAULT)
    .describe(`results wanted, 1 to ${SEARCH_LIMIT_MAX}`),
});

export const SEARCH_BACKENDS = ['brave', 'searxng', 'duckduckgo'] as const;
export const SearchBackendSchema = z.enum(SEARCH_BACKENDS);
export type SearchBackend = z.infer<typeof SearchBackendSchema>;

export const SearchResultSchema = z.object({ title: z.string(), url: z.string(), snippet: z.string() });
export type SearchResult = z.infer<typeof SearchResultSchema>;

export const WebSearchResponseSchema = z.object({
  backend: SearchBackendSchema,
  results: z.array(SearchResultSchema),
  /** Backends tried before `backend`, each with why it gave no answer. */
  fell_back: z.array(z.object({ backend: SearchBackendSchema, reason: z.string() })),
});
export type WebSearchResponse = z.infer<typeof WebSearchResponseSchema>;
