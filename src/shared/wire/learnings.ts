// A user's correction of an agent: REPL `/correct <text>` -> admin POST
// /api/agents/:name/correct -> agent POST /correct. The same body on both hops; both
// ends validate it.
import { z } from 'zod';

/** Longer corrections are refused rather than cut, so nothing the user said is lost. */
export const CORRECTION_MAX_CHARS = 2_000;

export const CorrectionRequestSchema = z.strictObject({
  text: z
    .string()
    .trim()
    .min(1, 'expected a non-empty correction')
    .max(CORRECTION_MAX_CHARS, `expected a correction of at most ${CORRECTION_MAX_CHARS} characters`),
});

export const CorrectionResponseSchema = z.object({
  recorded: z.literal(true),
  /** The file it went to, relative to the agent's workspace. */
  file: z.string(),
  /** Corrections in that file now (older ones move to the archive). */
  entries: z.number().int().nonnegative(),
});
export type CorrectionResponse = z.infer<typeof CorrectionResponseSchema>;
