// The live permission matrix of a running mesh. Rules in force are always a complete,
// valid policy: the file at load, the starter policy when there is no file, or the
// last valid version after an invalid edit. load() throws ConfigError for an invalid
// file (the mesh refuses to start); after that, reloads never throw: an invalid edit
// is refused, logged and recorded as a `permissions_invalid` event.
import { basename } from 'node:path';
import { ConfigError } from '../../shared/config/project.js';
import type { Logger } from '../../shared/logging.js';
import type { EventLog } from '../events/log.js';
import { watchConfigFiles, type ConfigWatch } from '../config/watch.js';
import {
  cronManagementAllowed,
  decide,
  domainAllowed,
  flagAllowed,
  type PermissionRules,
  internetAllowed,
} from '../../shared/config/permissions/policy.js';
import { permissionsFileInQuestion, readPermissionRules } from '../../shared/config/permissions/file.js';
import { PERMISSIONS_FILES } from '../../shared/config/permissions/schema.js';
import { STARTER_RULES } from '../../shared/config/permissions/starter.js';
import type { FlagChecker, PermissionChecker } from './types.js';
import {
  checkRequestWithin,
  decideForSubAgent,
  domainForSubAgent,
  flagForSubAgent,
  internetForSubAgent,
  spawnGrant,
  type SpawnDecision,
  type SubAgentScope,
} from '../../shared/config/permissions/subagent.js';
import type { RequestedPermissions } from '../../shared/config/permissions/schema.js';
import { parentOfSubAgent } from '../../shared/subagents.js';
import type { Decision, DomainDecision, Permission, PermissionFlag } from '../../shared/config/permissions/types.js';

export interface PermissionMatrixOptions {
  projectDir: string;
  events: EventLog;
  logger: Logger;
}

export interface PermissionsStatus {
  source: 'file' | 'starter';
  /** Project-relative path of the file in force; null under the starter policy. */
  path: string | null;
  /** The refused edit's error lines, joined; null once the file is valid again. */
  last_error: string | null;
  loaded_at: string;
}

const WATCHED_NAMES = new Set(Object.values(PERMISSIONS_FILES).map((path) => basename(path)));

export class PermissionMatrix implements PermissionChecker, FlagChecker {
  private readonly projectDir: string;
  private readonly events: EventLog;
  private readonly logger: Logger;
  private rules: PermissionRules | null = null;
  /** JSON of the rules in force, so a save that changes nothing is not a reload. */
  private rulesFingerprint = '';
  private loadedAt = '';
  private lastError: string | null = null;
  private watcher: ConfigWatch | null = null;
  /** Live sub-agents: their decisions are their parent's, narrowed (shared/config/permissions/subagent.ts). */
  private readonly subAgents = new Map<string, SubAgentScope>();

  constructor(options: PermissionMatrixOptions) {
    this.projectDir = options.projectDir;
    this.events = options.events;
    this.logger = options.logger;
  }

  /** Reads the rules and starts watching config/; throws ConfigError for an invalid file. */
  load(): void {
    this.apply(readPermissionRules(this.projectDir));
    this.startWatching();
  }

  check(agent: string, permission: Permission, subject: string): Decision {
    if (!this.rules) throw new Error('PermissionMatrix.check() called before load()');
    const scope = this.subAgentScope(agent);
    if (scope === 'unknown') return this.notLive(agent);
    if (scope) return decideForSubAgent(this.rules, scope, permission, subject);
    return decide(this.rules, agent, permission, subject);
  }

  checkDomain(agent: string, host: string, port: number): DomainDecision {
    if (!this.rules) throw new Error('PermissionMatrix.checkDomain() called before load()');
    const scope = this.subAgentScope(agent);
    if (scope === 'unknown') return this.notLive(agent);
    if (scope) return domainForSubAgent(this.rules, scope, { host, port });
    return domainAllowed(this.rules, agent, { host, port });
  }

  canUseInternet(agent: string): boolean {
    if (!this.rules) throw new Error('PermissionMatrix.canUseInternet() called before load()');
    const scope = this.subAgentScope(agent);
    if (scope === 'unknown') return false;
    if (scope) return internetForSubAgent(this.rules, scope);
    return internetAllowed(this.rules, agent);
  }

  canManageCron(agent: string): Decision {
    if (!this.rules) throw new Error('PermissionMatrix.canManageCron() called before load()');
    return this.flag(agent, 'can_manage_cron');
  }

  flag(agent: string, flag: PermissionFlag): Decision {
    if (!this.rules) throw new Error('PermissionMatrix.flag() called before load()');
    const scope = this.subAgentScope(agent);
    if (scope === 'unknown') return this.notLive(agent);
    if (scope) return flagForSubAgent(this.rules, scope, flag);
    return flag === 'can_manage_cron' ? cronManagementAllowed(this.rules, agent) : flagAllowed(this.rules, agent, flag);
  }

  /** can_spawn of `agent` as the rules say now; a sub-agent never may. */
  spawnGrant(agent: string): SpawnDecision {
    if (!this.rules) throw new Error('PermissionMatrix.spawnGrant() called before load()');
    return spawnGrant(this.rules, agent, parentOfSubAgent(agent) !== null);
  }

  /** Whether spawn_agent's `permissions` lie within `parent`'s own. */
  checkRequestWithin(parent: string, requested: RequestedPermissions): Decision {
    if (!this.rules) throw new Error('PermissionMatrix.checkRequestWithin() called before load()');
    return checkRequestWithin(this.rules, parent, requested);
  }

  /** From a sub-agent's start until it is removed, its decisions are its parent's, narrowed. */
  scopeSubAgent(scope: SubAgentScope): void {
    this.subAgents.set(scope.id, scope);
  }

  unscopeSubAgent(id: string): void {
    this.subAgents.delete(id);
  }

  /** A sub-agent id's scope, 'unknown' for one that is not live, null for a configured agent's name. */
  private subAgentScope(agent: string): SubAgentScope | 'unknown' | null {
    if (parentOfSubAgent(agent) === null) return null;
    return this.subAgents.get(agent) ?? 'unknown';
  }

  private notLive(agent: string): { allowed: false; reason: string } {
    return { allowed: false, reason: `${agent} is not a running sub-agent: it may do nothing` };
  }

  status(): PermissionsStatus {
    const source = this.rules?.source ?? STARTER_RULES.source;
    return {
      source: source.kind,
      path: source.kind === 'file' ? source.path : null,
      last_error: this.lastError,
      loaded_at: this.loadedAt,
    };
  }

  /** Re-reads the file now (what the watcher does after a change); never throws. */
  reloadNow(): void {
    this.watcher?.cancelPending();
    let next: PermissionRules;
    try {
      next = readPermissionRules(this.projectDir);
    } catch (err) {
      // readPermissionRules throws nothing else; anything else is a bug worth a crash.
      if (!(err instanceof ConfigError)) throw err;
      this.refuse(err);
      return;
    }
    const hadError = this.lastError !== null;
    if (!this.apply(next) && !hadError) return;
    const { source } = next;
    const path = source.kind === 'file' ? source.path : null;
    this.logger.info({ event: 'permissions_reloaded', source: source.kind, path }, 'permission matrix reloaded');
    this.events.record({
      agent: null,
      kind: 'permissions_reloaded',
      subject: path ?? PERMISSIONS_FILES.yaml,
      detail: { source: source.kind, path },
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  /** Installs `next` and clears any refused-edit error; false when the rules did not change. */
  private apply(next: PermissionRules): boolean {
    this.lastError = null;
    const fingerprint = JSON.stringify(next);
    if (this.rules && fingerprint === this.rulesFingerprint) return false;
    this.rules = next;
    this.rulesFingerprint = fingerprint;
    this.loadedAt = new Date().toISOString();
    return true;
  }

  private refuse(error: ConfigError): void {
    this.lastError = error.lines.join('\n');
    this.logger.error(
      { event: 'permissions_invalid', errors: error.lines },
      'permission file edit refused; the previous rules stay in force',
    );
    this.events.record({
      agent: null,
      kind: 'permissions_invalid',
      subject: permissionsFileInQuestion(this.projectDir),
      detail: { errors: error.lines },
    });
  }

  private startWatching(): void {
    if (this.watcher) return;
    this.watcher = watchConfigFiles({
      projectDir: this.projectDir,
      names: WATCHED_NAMES,
      what: 'permission edits',
      logger: this.logger,
      onChange: () => this.reloadNow(),
    });
  }
}
