// Pure permission decisions: (rules, agent, permission, subject) → allowed, or denied
// with a reason that names the rule. allowed_domains is decided per host:port by
// domains.ts (a subject for it is `host:port`). Resolution: the agent's own entry replaces the
// default entirely (no merging); an unlisted agent gets `default`; with no default it
// may do nothing. Never throws and never grants what no glob matches.
import picomatch from 'picomatch';
import { destinationText, matchDomain, type Destination } from './domains.js';
import { PERMISSIONS_FILES, type PermissionEntry, type PermissionsFile } from './schema.js';
import type { Decision, DomainDecision, Permission, PermissionFlag } from './types.js';

export type RulesSource = { kind: 'file'; path: string } | { kind: 'starter' };

export interface PermissionRules {
  policy: PermissionsFile;
  source: RulesSource;
}

export const PERMISSION_VERBS: Record<Permission, string> = {
  blackboard_read: 'read',
  blackboard_write: 'write',
  can_publish: 'publish to',
  can_subscribe: 'subscribe to',
  can_message: 'message',
  allowed_apis: 'use the API',
  allowed_credentials: 'use the credential',
  allowed_domains: 'connect to',
  can_read_history: 'read the history of',
  allowed_mcp_tools: 'use the MCP tool',
};

/** can_use_internet of the agent's entry (its own, else default); false when neither exists. */
export function internetAllowed(rules: PermissionRules, agent: string): boolean {
  return resolveEntry(rules.policy, agent)?.entry.can_use_internet ?? false;
}

const FLAG_ACTIONS: Record<PermissionFlag, string> = {
  can_manage_cron: 'manage cron jobs or its heartbeat',
  can_search: 'search the web (web_search)',
  can_use_browser: 'use a browser',
  can_browser_evaluate: 'run scripts in browser pages (browser_evaluate)',
  can_notify_user: 'message its paired channel users first',
  can_create_skills: 'create skills (create_skill)',
};

/** A yes/no flag of the agent's entry; a denial names the flag and where it was read. */
export function flagAllowed(rules: PermissionRules, agent: string, flag: PermissionFlag): Decision {
  const resolved = resolveEntry(rules.policy, agent);
  const denied = `${agent} may not ${FLAG_ACTIONS[flag]}`;
  if (!resolved) {
    const where = rules.source.kind === 'file' ? rules.source.path : 'the starter policy';
    return { allowed: false, reason: `${denied}: ${agent} is not listed in ${where} and there is no default entry` };
  }
  if (resolved.entry[flag]) return { allowed: true };
  return { allowed: false, reason: `${denied}: ${flag} is false${ruleOrigin(rules.source, resolved.via)}` };
}

/** can_manage_cron of the agent's entry; a denial names the flag and where it was read. */
export function cronManagementAllowed(rules: PermissionRules, agent: string): Decision {
  return flagAllowed(rules, agent, 'can_manage_cron');
}

export const AGENT_PLACEHOLDER = '{agent}';

type Resolved = { entry: PermissionEntry; via: 'agent' | 'default' } | null;

export function resolveEntry(policy: PermissionsFile, agent: string): Resolved {
  // Own-property check: an agent named like an Object.prototype key must not resolve to it.
  const own = Object.hasOwn(policy.agents, agent) ? policy.agents[agent] : undefined;
  if (own) return { entry: own, via: 'agent' };
  return policy.default ? { entry: policy.default, via: 'default' } : null;
}

export function decide(rules: PermissionRules, agent: string, permission: Permission, subject: string): Decision {
  const resolved = resolveEntry(rules.policy, agent);
  const denied = `${agent} may not ${PERMISSION_VERBS[permission]} ${subject}`;
  if (!resolved) {
    const where = rules.source.kind === 'file' ? rules.source.path : 'the starter policy';
    return { allowed: false, reason: `${denied}: ${agent} is not listed in ${where} and there is no default entry` };
  }
  const globs = resolved.entry[permission];
  if (permission === 'allowed_domains') {
    const destination = parseSubjectDestination(subject);
    if (!destination) return { allowed: false, reason: `${denied}: allowed_domains is decided per host:port` };
    const decision = domainAllowed(rules, agent, destination);
    return decision.allowed ? { allowed: true } : decision;
  }
  if (matcherFor(rules, agent, permission, globs)(subject)) return { allowed: true };
  return {
    allowed: false,
    reason: `${denied}: ${permission} is ${JSON.stringify(globs)}${ruleOrigin(rules.source, resolved.via)}`,
  };
}

/** Whether an allowed_domains entry lets `agent` reach host:port, and whether one names it exactly. */
export function domainAllowed(rules: PermissionRules, agent: string, destination: Destination): DomainDecision {
  const resolved = resolveEntry(rules.policy, agent);
  const denied = `${agent} may not connect to ${destinationText(destination)}`;
  if (!resolved) {
    const where = rules.source.kind === 'file' ? rules.source.path : 'the starter policy';
    return { allowed: false, reason: `${denied}: ${agent} is not listed in ${where} and there is no default entry` };
  }
  const entries = resolved.entry.allowed_domains;
  const match = matchDomain(entries, agent, destination);
  if (match.matched) return { allowed: true, exact: match.exact };
  const listed = `allowed_domains is ${JSON.stringify(entries)}${ruleOrigin(rules.source, resolved.via)}`;
  if (!match.hostOnly) return { allowed: false, reason: `${denied}: ${listed}` };
  const covers =
    match.hostOnly.port === 'web' ? 'allows ports 80 and 443 only' : `allows port ${match.hostOnly.port} only`;
  return {
    allowed: false,
    reason: `${denied}: ${listed}, and "${match.hostOnly.text}" ${covers} (add "${destinationText({ host: match.hostOnly.literalHost ? destination.host : match.hostOnly.host, port: destination.port })}" for this port)`,
  };
}

function parseSubjectDestination(subject: string): Destination | null {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(subject.trim());
  return match?.[1] && match[2] ? { host: match[1], port: Number(match[2]) } : null;
}

function ruleOrigin(source: RulesSource, via: 'agent' | 'default'): string {
  if (source.kind === 'starter') return ` (starter policy; write ${PERMISSIONS_FILES.yaml} to change it)`;
  return via === 'default' ? ' (default entry)' : '';
}

type Matcher = (subject: string) => boolean;

// Compiling a glob costs far more than matching it, and checks sit on the blackboard's
// hot path; matchers are cached per rules object, so a reload simply drops them.
const matcherCache = new WeakMap<PermissionRules, Map<string, Matcher>>();

function matcherFor(rules: PermissionRules, agent: string, permission: Permission, globs: readonly string[]): Matcher {
  let perRules = matcherCache.get(rules);
  if (!perRules) {
    perRules = new Map();
    matcherCache.set(rules, perRules);
  }
  const key = `${permission}\n${agent}`;
  let matcher = perRules.get(key);
  if (!matcher) {
    matcher = compileGlobs(globs.map((glob) => glob.replaceAll(AGENT_PLACEHOLDER, escapeGlob(agent))));
    perRules.set(key, matcher);
  }
  return matcher;
}

/**
 * `/` separates segments: `*` stays within one, `**` spans any number. Blackboard keys
 * use `/`; topics, agent names and API names normally have none, so there a glob is
 * a plain glob. Dot-prefixed segments are ordinary names here, not hidden files, and
 * a leading `!` is literal (the schema refuses it; this keeps constructed rules safe).
 */
function compileGlobs(globs: readonly string[]): Matcher {
  if (globs.length === 0) return () => false;
  return picomatch([...globs], { dot: true, nonegate: true });
}

// An agent name is substituted into globs; its characters must match only themselves.
function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]{}()!+@|]/g, '\\$&');
}
