// Permissions of sub-agents (spawn_agent), decided purely from the rules in force.
// Invariants: a sub-agent is allowed something only when its parent is allowed it now
// (the parent's entry is read at every decision, so narrowing the parent narrows its
// live sub-agents too) and, for every key spawn_agent's `permissions` named, that
// narrower list or flag allows it as well: the intersection, never more than the
// parent. `{agent}` in a glob means the parent for both. A sub-agent may never spawn.
// checkRequestWithin refuses at spawn time, naming the key, a request that asks for
// more than the parent has; it is conservative (a glob that is not literally the
// parent's and is not a plain name the parent allows is refused).
import { PERMISSIONS_FILES, PermissionEntrySchema, type RequestedPermissions, type SpawnGrant } from './schema.js';
import { decide, domainAllowed, flagAllowed, internetAllowed, resolveEntry, type PermissionRules } from './policy.js';
import {
  PERMISSION_FLAGS,
  PERMISSIONS,
  type Decision,
  type DomainDecision,
  type Permission,
  type PermissionFlag,
} from './types.js';

/** A live sub-agent as the permission matrix knows it. */
export interface SubAgentScope {
  id: string;
  parent: string;
  /** What spawn_agent's `permissions` narrowed; null: the parent's permissions as they are. */
  requested: RequestedPermissions | null;
}

type Flag = PermissionFlag | 'can_use_internet';
const FLAGS: readonly Flag[] = [...PERMISSION_FLAGS, 'can_use_internet'];

/** The narrowed keys as rules of their own, keyed by the parent's name (so `{agent}` means the parent). */
function narrowedRules(scope: SubAgentScope): PermissionRules | null {
  if (!scope.requested) return null;
  const { can_spawn: _refused, ...lists } = scope.requested;
  return {
    policy: { agents: { [scope.parent]: PermissionEntrySchema.parse(lists) } },
    source: { kind: 'file', path: 'the permissions spawn_agent gave it' },
  };
}

// Narrowed rules are built once per scope: the matrix caches compiled globs per rules object.
const narrowedCache = new WeakMap<SubAgentScope, PermissionRules | null>();

function narrowed(scope: SubAgentScope): PermissionRules | null {
  if (!narrowedCache.has(scope)) narrowedCache.set(scope, narrowedRules(scope));
  return narrowedCache.get(scope) ?? null;
}

function asSubAgent<D extends Decision | DomainDecision>(scope: SubAgentScope, decision: D, narrowedKey: boolean): D {
  if (decision.allowed) return decision;
  const how = narrowedKey ? ', as narrowed by spawn_agent' : `, which has at most ${scope.parent}'s permissions`;
  return { ...decision, reason: `sub-agent ${scope.id}${how}: ${decision.reason}` };
}

export function decideForSubAgent(
  rules: PermissionRules,
  scope: SubAgentScope,
  permission: Permission,
  subject: string,
): Decision {
  const parent = decide(rules, scope.parent, permission, subject);
  if (!parent.allowed) return asSubAgent(scope, parent, false);
  const own = narrowed(scope);
  if (!own || scope.requested?.[permission] === undefined) return parent;
  return asSubAgent(scope, decide(own, scope.parent, permission, subject), true);
}

export function domainForSubAgent(
  rules: PermissionRules,
  scope: SubAgentScope,
  destination: { host: string; port: number },
): DomainDecision {
  const parent = domainAllowed(rules, scope.parent, destination);
  if (!parent.allowed) return asSubAgent(scope, parent, false);
  const own = narrowed(scope);
  if (!own || scope.requested?.allowed_domains === undefined) return parent;
  return asSubAgent(scope, domainAllowed(own, scope.parent, destination), true);
}

export function internetForSubAgent(rules: PermissionRules, scope: SubAgentScope): boolean {
  if (!internetAllowed(rules, scope.parent)) return false;
  return scope.requested?.can_use_internet ?? true;
}

export function flagForSubAgent(rules: PermissionRules, scope: SubAgentScope, flag: PermissionFlag): Decision {
  const parent = flagAllowed(rules, scope.parent, flag);
  if (!parent.allowed) return asSubAgent(scope, parent, false);
  if (scope.requested?.[flag] === false) {
    return { allowed: false, reason: `sub-agent ${scope.id} may not: spawn_agent gave it ${flag}: false` };
  }
  return parent;
}

export type SpawnDecision = { allowed: true; grant: SpawnGrant } | { allowed: false; reason: string };

/** can_spawn of `agent`; a sub-agent never may. */
export function spawnGrant(rules: PermissionRules, agent: string, isSubAgent: boolean): SpawnDecision {
  if (isSubAgent) {
    return { allowed: false, reason: `${agent} is a sub-agent, and a sub-agent may not spawn sub-agents of its own` };
  }
  const resolved = resolveEntry(rules.policy, agent);
  const where =
    rules.source.kind === 'file' ? rules.source.path : `the starter policy (write ${PERMISSIONS_FILES.yaml})`;
  if (!resolved) {
    return {
      allowed: false,
      reason: `${agent} may not spawn sub-agents: it is not listed in ${where} and there is no default entry`,
    };
  }
  const grant = resolved.entry.can_spawn;
  if (!grant) {
    const entry = resolved.via === 'default' ? 'the default entry' : `${agent}'s entry`;
    return {
      allowed: false,
      reason: `${agent} may not spawn sub-agents: can_spawn is not set in ${entry} of ${where} (for example can_spawn: { max_concurrent: 2 })`,
    };
  }
  return { allowed: true, grant };
}

const GLOB_CHARS = /[*?[\]{}()!+@]/;

/** Whether `requested` lies within what `parent` may do now; the refusal names the key and value. */
export function checkRequestWithin(rules: PermissionRules, parent: string, requested: RequestedPermissions): Decision {
  if (requested.can_spawn !== undefined) {
    return { allowed: false, reason: 'permissions.can_spawn cannot be given: a sub-agent may not spawn' };
  }
  const entry = resolveEntry(rules.policy, parent)?.entry;
  const wider = (key: string, value: unknown, own: unknown) => ({
    allowed: false as const,
    reason: `permissions.${key} ${JSON.stringify(value)} is wider than ${parent}'s own ${key} (${JSON.stringify(own)}): a sub-agent's permissions are at most its parent's`,
  });
  for (const permission of PERMISSIONS) {
    const own = entry?.[permission] ?? [];
    for (const glob of requested[permission] ?? []) {
      if (own.includes(glob)) continue;
      if (!GLOB_CHARS.test(glob) && decide(rules, parent, permission, glob).allowed) continue;
      return wider(permission, glob, own);
    }
  }
  for (const flag of FLAGS) {
    if (requested[flag] === true && entry?.[flag] !== true) return wider(flag, true, entry?.[flag] ?? false);
  }
  return { allowed: true };
}
