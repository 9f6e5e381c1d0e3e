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
