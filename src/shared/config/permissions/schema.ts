// Schema of config/permissions.yaml (or .json). Every object is strict: an unknown key
// is an error that names it, because a misspelt permission would otherwise silently
// grant nothing and nobody would know why. Every entry comes out with every list
// present and the yes/no flags set, so the decision code never meets a missing key.
import { z } from 'zod';
import { AGENT_NAME_PATTERN } from '../../names.js';
import { parseDomainEntry } from './domains.js';
import type { Permission } from './types.js';

export const PERMISSIONS_FILES = {
  yaml: 'config/permissions.yaml',
  json: 'config/permissions.json',
} as const;

/** `key:` with nothing after it is YAML null; it means the same as leaving the key out. */
const nullAsEmpty =
  <T>(empty: T) =>
  (value: unknown) =>
    value === null ? empty : value;

// A list only ever grants, so a leading `!` (picomatch negation, "everything except")
// would grant far more than its author meant; it is refused instead.
const GlobSchema = z
  .string()
  .min(1, 'expected a non-empty glob')
  .refine((glob) => !glob.startsWith('!'), 'a glob may not start with "!": list only what is allowed');

const GlobListSchema = z
  .array(GlobSchema)
  .nullish()
  .transform((globs) => globs ?? []);

// An entry that does not parse would otherwise grant nothing, silently.
const DomainListSchema = z
  .array(
    GlobSchema.superRefine((entry, ctx) => {
      const parsed = parseDomainEntry(entry);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    }),
  )
  .nullish()
  .transform((globs) => globs ?? []);

// `satisfies` makes the compiler insist on exactly the keys of PERMISSIONS.
const entryShape = {
  blackboard_read: GlobListSchema,
  blackboard_write: GlobListSchema,
  can_publish: GlobListSchema,
  can_subscribe: GlobListSchema,
  can_message: GlobListSchema,
  allowed_apis: GlobListSchema,
  allowed_credentials: GlobListSchema,
  allowed_domains: DomainListSchema,
  /** Agents whose daily logs it may read (read_agent_history). */
  can_read_history: GlobListSchema,
  allowed_mcp_tools: GlobListSchema,
} satisfies Record<Permission, typeof GlobListSchema | typeof DomainListSchema>;

/** Most sub-agents one parent may run at once, whatever can_spawn says. */
export const MAX_SPAWN_CONCURRENCY = 16;

const SpawnConcurrencySchema = z
  .int('expected a whole number of sub-agents')
  .min(1, 'expected at least 1 (leave can_spawn out to forbid spawning)')
  .max(MAX_SPAWN_CONCURRENCY, `expected at most ${MAX_SPAWN_CONCURRENCY} concurrent sub-agents`);

/** can_spawn: `2` is short for `{ max_concurrent: 2 }`; `models` are globs of the models a
 *  sub-agent may be given (empty: only the parent's own model). */
const SpawnGrantSchema = z.preprocess(
  (value) => (value === null ? undefined : value),
  z
    .union([
      SpawnConcurrencySchema.transform((max) => ({ max_concurrent: max, models: [] as string[] })),
      z.strictObject({ max_concurrent: SpawnConcurrencySchema, models: GlobListSchema }),
    ])
    .optional(),
);
export type SpawnGrant = { max_concurrent: number; models: string[] };

export const PermissionEntrySchema = z.preprocess(
  nullAsEmpty({}),
  z.strictObject({
    ...entryShape,
    can_use_internet: z
      .boolean()
      .nullish()
      .transform((flag) => flag ?? false),
    /** May add, list and remove its own cron jobs and set its heartbeat. */
    can_manage_cron: z
      .boolean()
      .nullish()
      .transform((flag) => flag ?? false),
    /** May call web_search (the mesh searches; no key and no internet permission needed). */
    can_search: z
      .boolean()
      .nullish()
      .transform((flag) => flag ?? false),
    /** May run the browser image variant (with `browser: true` in agents.yaml). */
    can_use_browser: z
      .boolean()
      .nullish()
      .transform((flag) => flag ?? false),
    /** May run scripts in browser pages (browser_evaluate). */
    can_browser_evaluate: z
      .boolean()
      .nullish()
      .transform((flag) => flag ?? false),
    /** May message the Telegram and Discord users paired with it first (notify_user). */
    can_notify_user: z
      .boolean()
      .nullish()
      .transform((flag) => flag ?? false),
    /** May write skills of its own with tool code (create_skill; see docs/skills.md). */
    can_create_skills: z
      .boolean()
      .nullish()
      .transform((flag) => flag ?? false),
    /** May start ephemeral sub-agents (spawn_agent), this many at once; absent: never. */
    can_spawn: SpawnGrantSchema,
  }),
);
export type PermissionEntry = z.output<typeof PermissionEntrySchema>;

export const PermissionsFileSchema = z.strictObject({
  /** Template for agents not listed under `agents`; absent means they may do nothing. */
  default: PermissionEntrySchema.optional(),
  agents: z.preprocess(
    nullAsEmpty({}),
    z
      .record(
        z
          .string()
          .regex(AGENT_NAME_PATTERN, 'agent names use lowercase letters, digits and dashes, starting with a letter'),
        PermissionEntrySchema,
      )
      .default({}),
  ),
});
export type PermissionsFile = z.output<typeof PermissionsFileSchema>;

const optionalFlag = z.boolean().optional();

/** spawn_agent's `permissions`: the keys given narrow the parent's (each must lie within
 *  it); the keys left out are the parent's. can_spawn is listed only to be refused by name. */
export const RequestedPermissionsSchema = z.strictObject({
  ...(Object.fromEntries(Object.keys(entryShape).map((key) => [key, z.array(GlobSchema).optional()])) as Record<
    Permission,
    z.ZodOptional<z.ZodArray<typeof GlobSchema>>
  >),
  can_use_internet: optionalFlag,
  can_manage_cron: optionalFlag,
  can_search: optionalFlag,
  can_use_browser: optionalFlag,
  can_browser_evaluate: optionalFlag,
  can_notify_user: optionalFlag,
  can_create_skills: optionalFlag,
  can_spawn: z.unknown().optional(),
});
export type RequestedPermissions = z.output<typeof RequestedPermissionsSchema>;
