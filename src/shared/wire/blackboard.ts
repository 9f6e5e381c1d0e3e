// The blackboard's wire contract: agent API (/mesh/blackboard/*, POST bodies), admin
// API (/api/blackboard*, paths and query strings) and what both answer. Invariants:
// a key is 1-256 characters of [A-Za-z0-9_./:-] with no leading "/", no empty and no
// ".." segment; a value is any JSON value of at most 256 KB serialized; request bodies
// are strict, so a misspelt field is an error that names it.
import { z } from 'zod';

export const BLACKBOARD_KEY_MAX = 256;
export const BLACKBOARD_VALUE_MAX_BYTES = 256 * 1024;
export const BLACKBOARD_LIST_DEFAULT = 50;
export const BLACKBOARD_LIST_MAX = 500;
/** A TTL longer than a year is almost surely a unit mistake (ms for s). */
export const BLACKBOARD_TTL_MAX_S = 365 * 24 * 3600;
export const BLACKBOARD_WATCH_DEFAULT_S = 30;
export const BLACKBOARD_WATCH_MAX_S = 60;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const KEY_CHARS = /^[A-Za-z0-9_./:-]*$/;

/** Why `text` (a key, or a prefix when `prefix` is set) is not acceptable, or null. */
function pathProblem(text: string, what: 'key' | 'prefix'): string | null {
  if (what === 'key' && text.length === 0) return 'a key cannot be empty';
  if (text.length > BLACKBOARD_KEY_MAX)
    return `a ${what} is at most ${BLACKBOARD_KEY_MAX} characters (this one has ${text.length})`;
  if (!KEY_CHARS.test(text)) {
    const bad = [...text].find((c) => !KEY_CHARS.test(c)) ?? '';
    return `a ${what} may only contain letters, digits and _ . / : - (found ${JSON.stringify(bad)})`;
  }
  if (text.startsWith('/')) return `a ${what} cannot start with "/"`;
  const segments = text.split('/');
  if (segments.includes('..')) return `a ${what} cannot contain a ".." segment`;
  // A prefix may end with "/" ("context/"); a key may not, since no key can live under it.
  const inner = what === 'prefix' ? segments.slice(0, -1) : segments;
  if (inner.includes(''))
    return `a ${what} cannot contain an empty segment ("//"${what === 'key' ? ' or a trailing "/"' : ''})`;
  return null;
}

export function blackboardKeyProblem(key: string): string | null {
  return pathProblem(key, 'key');
}

export function blackboardPrefixProblem(prefix: string): string | null {
  return pathProblem(prefix, 'prefix');
}

/** Serialized size in bytes, or why `value` cannot be stored. */
export function measureBlackboardValue(value: unknown): { bytes: number; json: string } | { problem: string } {
  if (value === undefined) return { problem: 'expected a JSON value' };
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json);
  if (bytes > BLACKBOARD_VALUE_MAX_BYTES) {
    return {
      problem: `the value is ${bytes} bytes as JSON; the limit is ${BLACKBOARD_VALUE_MAX_BYTES} bytes (256 KB): store a summary, or save the data as an artifact`,
    };
  }
  return { bytes, json };
}

function refinedString(problem: (text: string) => string | null) {
  return z.string().superRefine((text, ctx) => {
    const message = problem(text);
    if (message) ctx.addIssue({ code: 'custom', message });
  });
}

export const BlackboardKeySchema = refinedString(blackboardKeyProblem);
export const BlackboardPrefixSchema = refinedString(blackboardPrefixProblem);

// Bodies arrive through JSON.parse, so anything present is JSON; what is left to check
// is that it is present (and, for what is written, small enough).
const PresentJsonSchema = z.custom<JsonValue>((value) => value !== undefined, { message: 'expected a JSON value' });

export const BlackboardValueSchema = z.custom<JsonValue>().superRefine((value, ctx) => {
  const measured = measureBlackboardValue(value);
  if ('problem' in measured) ctx.addIssue({ code: 'custom', message: measured.problem });
});

const VersionSchema = z.int().min(1);
/** 0 means "the key must not exist yet". */
const ExpectedVersionSchema = z.int().min(0);
const TtlSchema = z.int().min(1).max(BLACKBOARD_TTL_MAX_S);
const LimitSchema = z.int().min(1).max(BLACKBOARD_LIST_MAX);

export const BlackboardOpSchema = z.enum(['set', 'delete', 'expire']);
export type BlackboardOp = z.infer<typeof BlackboardOpSchema>;

export const BlackboardEntrySchema = z.object({
  key: z.string(),
  value: PresentJsonSchema,
  version: VersionSchema,
  writer: z.string(),
  updated_at: z.string(),
  expires_at: z.string().nullable(),
});
export type BlackboardEntry = z.infer<typeof BlackboardEntrySchema>;

/** The answer to a write: the new version, without echoing the value. */
export const BlackboardWriteResultSchema = BlackboardEntrySchema.omit({ value: true });
export type BlackboardWriteResult = z.infer<typeof BlackboardWriteResultSchema>;

/** `version` is the version the delete was recorded at (one past the last value's). */
export const BlackboardDeleteResultSchema = z.object({
  key: z.string(),
  deleted: z.literal(true),
  version: VersionSchema,
});
export type BlackboardDeleteResult = z.infer<typeof BlackboardDeleteResultSchema>;

/** One history row; `seq` orders every change of the whole blackboard. value is null for delete and expire. */
export const BlackboardChangeSchema = z.object({
  seq: z.int().min(1),
  key: z.string(),
  version: VersionSchema,
  op: BlackboardOpSchema,
  value: PresentJsonSchema,
  writer: z.string(),
  at: z.string(),
});
export type BlackboardChange = z.infer<typeof BlackboardChangeSchema>;

/** `next_cursor` is null on the last page; otherwise pass it back as `cursor`. */
export const BlackboardPageSchema = z.object({
  entries: z.array(BlackboardEntrySchema),
  next_cursor: z.string().nullable(),
});
export type BlackboardPage = z.infer<typeof BlackboardPageSchema>;

/** Newest change first. */
export const BlackboardHistorySchema = z.object({ key: z.string(), history: z.array(BlackboardChangeSchema) });
export type BlackboardHistory = z.infer<typeof BlackboardHistorySchema>;

/** `last_seq` is what to pass as `since` next time (the newest change seen, or the old `since`). */
export const BlackboardWatchResponseSchema = z.object({
  changes: z.array(BlackboardChangeSchema),
  last_seq: z.int().min(0),
});
export type BlackboardWatchResponse = z.infer<typeof BlackboardWatchResponseSchema>;

// Agent API bodies (POST /mesh/blackboard/*).

export const BlackboardGetRequestSchema = z.strictObject({ key: BlackboardKeySchema });

export const BlackboardSetRequestSchema = z.strictObject({
  key: BlackboardKeySchema,
  value: BlackboardValueSchema,
  expected_version: ExpectedVersionSchema.optional(),
  ttl_s: TtlSchema.optional(),
});

export const BlackboardListRequestSchema = z.strictObject({
  prefix: BlackboardPrefixSchema.default(''),
  limit: LimitSchema.optional(),
  cursor: BlackboardKeySchema.optional(),
});

export const BlackboardDeleteRequestSchema = z.strictObject({
  key: BlackboardKeySchema,
  expected_version: VersionSchema.optional(),
});

export const BlackboardHistoryRequestSchema = z.strictObject({
  key: BlackboardKeySchema,
  limit: LimitSchema.optional(),
});

// Admin API (/api/blackboard*): the key is the rest of the path; options are query strings.

/** A query-string integer: digits only, so "", "1e3" and "-1" are refused rather than coerced. */
export function queryInt(inner: z.ZodInt) {
  return z
    .string()
    .regex(/^\d{1,15}$/, 'expected a whole number')
    .transform(Number)
    .pipe(inner);
}

export const BlackboardPutBodySchema = z.strictObject({
  value: BlackboardValueSchema,
  expected_version: ExpectedVersionSchema.optional(),
  ttl_s: TtlSchema.optional(),
});

export const BlackboardDeleteQuerySchema = z.strictObject({ expected_version: queryInt(VersionSchema).optional() });

export const BlackboardListQuerySchema = z.strictObject({
  prefix: BlackboardPrefixSchema.default(''),
  limit: queryInt(LimitSchema).optional(),
  cursor: BlackboardKeySchema.optional(),
});

export const BlackboardHistoryQuerySchema = z.strictObject({ limit: queryInt(LimitSchema).optional() });

export const BlackboardWatchQuerySchema = z.strictObject({
  prefix: BlackboardPrefixSchema.default(''),
  since: queryInt(z.int().min(0)).optional(),
  timeout_s: queryInt(z.int().min(0).max(BLACKBOARD_WATCH_MAX_S)).optional(),
});
