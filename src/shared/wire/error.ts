// The schema of an error on the wire ({ error: ErrorBody }), for whoever reads another
// process's answers. Kept apart from errors.ts, which every process loads, so that code
// paths that never meet a malformed error (the CLI's `chat -m`) load no zod.
import { z } from 'zod';
import type { ErrorBody } from '../errors.js';

export const ErrorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  provider: z.string().optional(),
  status: z.number().int().optional(),
  path: z.string().optional(),
}) satisfies z.ZodType<ErrorBody>;

export const ErrorResponseSchema = z.object({ error: ErrorBodySchema });
