// The permissions an entry of config/permissions.yaml grants, and the shape of a decision
// on one of them. Pure names and types: the mesh's live matrix (src/mesh/permissions)
// and the CLI's offline checks both decide with them.

/** Permissions granted by lists of globs; can_use_internet and can_manage_cron are separate yes/no flags. */
export const PERMISSIONS = [
  'blackboard_read',
  'blackboard_write',
  'can_publish',
  'can_subscribe',
  'can_message',
  'allowed_apis',
  'allowed_credentials',
  'allowed_domains',
  'can_read_history',
  'allowed_mcp_tools',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export type Decision = { allowed: true } | { allowed: false; reason: string };

/** allowed_domains for one host:port; `exact` when an entry names that literal host and port. */
export type DomainDecision = { allowed: true; exact: boolean } | { allowed: false; reason: string };

/** Yes/no permissions of an entry that gate one capability each (can_use_internet is the egress proxy's own). */
export const PERMISSION_FLAGS = [
  'can_manage_cron',
  'can_search',
  'can_use_browser',
  'can_browser_evaluate',
  'can_notify_user',
  'can_create_skills',
] as const;
export type PermissionFlag = (typeof PERMISSION_FLAGS)[number];
