// What the rest of the mesh needs from the permission matrix: a decision per
// (agent, permission, subject), and one way to turn a denial into a 403 that names
// the rule, recorded in the event log.
import { LegionError } from '../../shared/errors.js';
import type { EventLog } from '../events/log.js';

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
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export type Decision = { allowed: true } | { allowed: false; reason: string };

/** allowed_domains for one host:port; `exact` when an entry names that literal host and port. */
export type DomainDecision = { allowed: true; exact: boolean } | { allowed: false; reason: string };

/** Yes/no permissions of an entry that gate one capability each (can_use_internet is the egress proxy's own). */
export const PERMISSION_FLAGS = ['can_manage_cron', 'can_search', 'can_use_browser', 'can_browser_evaluate', 'can_notify_user'] as const;
export type PermissionFlag = (typeof PERMISSION_FLAGS)[number];

export interface PermissionChecker {
  check(agent: string, permission: Permission, subject: string): Decision;
  /** allowed_domains for `host` at `port` (see domains.ts for what an entry allows). */
  checkDomain(agent: string, host: string, port: number): DomainDecision;
  /** can_use_internet of the agent's entry: any public address through the egress proxy. */
  canUseInternet(agent: string): boolean;
  /** can_manage_cron of the agent's entry: its own cron jobs and heartbeat. */
  canManageCron(agent: string): Decision;
}

/** The yes/no flags of the matrix (web search, browser): a denial names the flag and where it was read. */
export interface FlagChecker {
  flag(agent: string, flag: PermissionFlag): Decision;
}

/** Throws a 403 naming the rule when `agent` may not; records the denial. */
export function assertAllowed(
  checker: PermissionChecker,
  events: EventLog,
  request: { agent: string; trace?: string | null },
  permission: Permission,
  subject: string,
): void {
  const decision = checker.check(request.agent, permission, subject);
  if (decision.allowed) return;
  events.record({ agent: request.agent, kind: 'denied', subject, detail: { permission, reason: decision.reason }, trace: request.trace ?? null });
  throw new LegionError('forbidden', decision.reason);
}
