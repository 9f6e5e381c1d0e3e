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
    return decide(this.rules, agent, permission, subject);
  }

  checkDomain(agent: string, host: string, port: number): DomainDecision {
    if (!this.rules) throw new Error('PermissionMatrix.checkDomain() called before load()');
    return domainAllowed(this.rules, agent, { host, port });
  }

  canUseInternet(agent: string): boolean {
    if (!this.rules) throw new Error('PermissionMatrix.canUseInternet() called before load()');
    return internetAllowed(this.rules, agent);
  }

  canManageCron(agent: string): Decision {
    if (!this.rules) throw new Error('PermissionMatrix.canManageCron() called before load()');
    return cronManagementAllowed(this.rules, agent);
  }

  flag(agent: string, flag: PermissionFlag): Decision {
    if (!this.rules) throw new Error('PermissionMatrix.flag() called before load()');
    return flagAllowed(this.rules, agent, flag);
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
