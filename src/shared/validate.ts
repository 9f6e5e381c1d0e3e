// Validation of request bodies and tool arguments: a failure is a LegionError with
// status 400 whose message names the field path and what was expected.
import type { z } from 'zod';
import { LegionError } from './errors.js';
import { formatZodIssues } from './zod-format.js';

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const lines = formatZodIssues(where, result.error);
  const first = result.error.issues[0];
  throw new LegionError('invalid_request', lines.join('; '), first ? { path: first.path.map(String).join('.') } : {});
}
