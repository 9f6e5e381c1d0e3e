// The wire contract of POST /mesh/browser/evaluate: before browser_evaluate runs a
// script in a page, the agent asks the mesh, which checks can_browser_evaluate and
// records the grant (page URL, script size) in the event log.
import { z } from 'zod';

export const BrowserEvaluateRequestSchema = z.strictObject({
  url: z.string().max(8192),
  expression_chars: z.number().int().nonnegative(),
});

export const BrowserEvaluateGrantSchema = z.object({ granted: z.literal(true) });
