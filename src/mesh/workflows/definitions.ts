// The workflows of config/workflows as the mesh holds them. Read at mesh start, before
// the database opens (an invalid file fails the start with the ConfigError's lines,
// leaving nothing to close), and again whenever a person asks (GET /api/workflows, a
// manual run) or a trigger fires, so edits apply without a restart.
// Invariants: the definitions in force are always a complete, valid set: an invalid
// edit is refused (reload() throws the ConfigError, a 400 naming every problem) and the
// previous set stays; triggers, which have nobody to answer, use the set in force
// after trying to read the files (currentOrPrevious), and the refusal is recorded once.
// Files are parsed again only when they changed (names, sizes, modification times) or
// the agents did, so a publish, which asks every time, costs a directory listing.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../shared/config/project.js';
import { WORKFLOWS_DIR } from '../../shared/config/workflow.js';
import type { Logger } from '../../shared/logging.js';
import type { EventLog } from '../events/log.js';
import { loadWorkflows, type AgentRoles, type LoadedWorkflow } from '../../shared/config/workflows/load.js';

export interface WorkflowDefinitionsOptions {
  /** The workflows read at mesh start, before the database opened (loadWorkflows). */
  initial: Map<string, LoadedWorkflow>;
  projectDir: string;
  /** The configured agents and their roles, as the mesh currently holds them. */
  agents: () => AgentRoles;
  events: EventLog;
  logger: Logger;
}

export class WorkflowDefinitions {
  private readonly options: WorkflowDefinitionsOptions;
  private current: Map<string, LoadedWorkflow>;
  /** What `current` was read from. */
  private currentPrint: string;
  /** The last refused edit and what it was read from, so it is recorded once. */
  private refusal: { print: string; error: ConfigError } | null = null;

  constructor(options: WorkflowDefinitionsOptions) {
    this.options = options;
    this.current = options.initial;
    this.currentPrint = this.fingerprint();
  }

  /** Reads the files again if they changed; an invalid edit throws ConfigError and changes nothing. */
  reload(): Map<string, LoadedWorkflow> {
    const print = this.fingerprint();
    if (print === this.currentPrint) return this.current;
    if (print === this.refusal?.print) throw this.refusal.error;
    try {
      this.current = loadWorkflows(this.options.projectDir, this.options.agents());
      this.currentPrint = print;
      this.refusal = null;
      return this.current;
    } catch (err) {
      if (err instanceof ConfigError) this.refused(print, err);
      throw err;
    }
  }

  /** Reads the files again if they changed, keeping the definitions in force when they are invalid. */
  currentOrPrevious(): Map<string, LoadedWorkflow> {
    try {
      return this.reload();
    } catch (err) {
      if (err instanceof ConfigError) return this.current;
      throw err;
    }
  }

  /** The workflow files' names, sizes and modification times, and the agents' roles. */
  private fingerprint(): string {
    const dir = join(this.options.projectDir, WORKFLOWS_DIR);
    const files = statSync(dir, { throwIfNoEntry: false })?.isDirectory()
      ? readdirSync(dir)
          .sort()
          .map((name) => {
            // A file removed between the listing and here reads as gone.
            const stat = statSync(join(dir, name), { throwIfNoEntry: false });
            return stat ? `${name}:${stat.size}:${stat.mtimeMs}` : `${name}:gone`;
          })
      : [];
    const roles = Object.entries(this.options.agents()).map(([name, entry]) => [name, entry.role]);
    return JSON.stringify({ files, roles });
  }

  private refused(print: string, error: ConfigError): void {
    this.refusal = { print, error };
    this.options.events.record({
      agent: null,
      kind: 'workflows_invalid',
      subject: WORKFLOWS_DIR,
      detail: { problems: error.lines },
    });
    this.options.logger.warn(
      { event: 'workflows_invalid', problems: error.lines },
      'an edit of config/workflows is invalid; the previous workflows stay in force',
    );
  }
}
