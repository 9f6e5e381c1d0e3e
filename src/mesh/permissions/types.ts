// What the rest of the mesh needs from the permission matrix: a decision per
// (agent, permission, subject), and one way to turn a denial into a 403 that names
// the rule, recorded in the event log.
import { LegionError } from '../../shared/errors.js';
import type { Decision, DomainDecision, Permission, PermissionFlag } from '../../shared/config/permissions/types.js';
import type { EventLog } from '../events/log.js';

export interface PermissionChecker {
  check(agent: string, permission: Permission, subject: string): Decision;
  /** allowed_domains for `host` at `port` (see src/shared/config/permissions/domains.ts for what an entry allows). */
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
  events.record({
    agent: request.agent,
    kind: 'denied',
    subject,
    detail: { permission, reason: decision.reason },
    trace: request.trace ?? null,
  });
  throw new LegionError('forbidden', decision.reason);
}
