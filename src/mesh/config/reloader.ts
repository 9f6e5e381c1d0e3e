// Applies edits of config/agents.yaml and config/mesh.yaml made while the mesh runs.
// Invariants: the config in force is always a complete, valid project; an invalid
// edit is refused (file, line and key path in the log, the event log and `legion
// status`) and the previous config stays; a valid edit adds, removes and restarts
// exactly the agents whose entries changed (a removed agent's data stays on its
// volume); a mesh.yaml setting read only at start keeps its running value and says
// that it waits for the next `legion start`. Reloads run one at a time, never throw.
import { agentModel, ConfigError, PROJECT_FILES, type Project } from '../../shared/config/project.js';
import type { MeshFile } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logging.js';
import type { EventLog } from '../events/log.js';
import type { ProjectStore } from '../project-store.js';
import type { ProgressFn } from '../runtime/types.js';
import { watchConfigFiles, type ConfigWatch } from './watch.js';
import { planAgents, planMesh, type AgentsPlan, type MeshPlan } from './plan.js';

const WATCHED_NAMES: ReadonlySet<string> = new Set(['agents.yaml', 'mesh.yaml']);

export interface ConfigStatus {
  /** The refused edit's problems, one per line; null while the files are valid. */
  last_error: string | null;
  /** One line per mesh.yaml setting that waits for the next `legion start`. */
  pending_restart: string[];
  loaded_at: string;
}

export interface ReloadFleet {
  start: (name: string) => Promise<void>;
  stop: (name: string) => Promise<void>;
  remove: (name: string) => Promise<void>;
}

export interface ConfigReloaderOptions {
  store: ProjectStore;
  fleet: ReloadFleet;
  events: EventLog;
  logger: Logger;
  /** Lines for the person at the foreground `legion start`. */
  progress: ProgressFn;
  /** Called once the new config is in force, before any agent starts or stops. */
  onApplied: (plan: AgentsPlan) => void;
}

export function waitingLine(key: string): string {
  return `${PROJECT_FILES.mesh}: changed ${key}: takes effect at the next \`legion start\``;
}

export class ConfigReloader {
  private readonly options: ConfigReloaderOptions;
  /** mesh.yaml as the mesh started with it: what the restart-only settings really are. */
  private readonly startedMesh: MeshFile;
  private lastError: string | null = null;
  private waiting: string[] = [];
  private loadedAt = new Date().toISOString();
  private watcher: ConfigWatch | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: ConfigReloaderOptions) {
    this.options = options;
    this.startedMesh = structuredClone(options.store.get().mesh);
  }

  start(): void {
    if (this.watcher) return;
    this.watcher = watchConfigFiles({
      projectDir: this.options.store.get().dir,
      names: WATCHED_NAMES,
      what: 'edits of agents.yaml and mesh.yaml',
      logger: this.options.logger,
      onChange: () => void this.reloadNow(),
    });
  }

  status(): ConfigStatus {
    return { last_error: this.lastError, pending_restart: this.waiting.map(waitingLine), loaded_at: this.loadedAt };
  }

  /** Reads both files now and applies them, after any reload still running; never rejects. */
  reloadNow(): Promise<void> {
    this.watcher?.cancelPending();
    const run = this.queue.then(() => this.reload());
    this.queue = run.catch((err: unknown) =>
      this.options.logger.error({ event: 'config_reload_failed', err }, 'applying a config edit failed'),
    );
    return this.queue;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private async reload(): Promise<void> {
    const { store } = this.options;
    let next: Project;
    try {
      next = store.read();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.refuse(err);
      return;
    }
    if (this.lastError !== null) {
      this.lastError = null;
      this.say('info', 'config_valid', 'config: the files are valid again');
    }
    const current = store.get();
    const meshPlan = planMesh(this.startedMesh, current.mesh, next.mesh);
    const nextProject: Project = { ...next, mesh: meshPlan.effective };
    const agentsPlan = planAgents(current.agents, next.agents, {
      before: (name) => agentModel(current, name),
      after: (name) => agentModel(nextProject, name),
    });
    const newlyWaiting = meshPlan.waiting.filter((key) => !this.waiting.includes(key));
    this.waiting = meshPlan.waiting;
    const changed =
      meshPlan.applied.length + agentsPlan.added.length + agentsPlan.removed.length + agentsPlan.changed.length > 0;
    if (!changed && newlyWaiting.length === 0) return;
    store.replace(nextProject);
    this.loadedAt = new Date().toISOString();
    this.reportMesh(meshPlan, newlyWaiting);
    this.options.onApplied(agentsPlan);
    await this.applyAgents(agentsPlan);
  }

  private reportMesh(plan: MeshPlan, newlyWaiting: string[]): void {
    for (const key of plan.applied)
      this.say('info', 'config_applied', `${PROJECT_FILES.mesh}: changed ${key}: applied`, { key });
    for (const key of newlyWaiting) this.say('warn', 'config_needs_restart', waitingLine(key), { key });
  }

  private async applyAgents(plan: AgentsPlan): Promise<void> {
    const { fleet } = this.options;
    const file = PROJECT_FILES.agents;
    await Promise.all([
      ...plan.removed.map(async (agent) => {
        await this.attempt(agent, `${file}: removed agent ${agent}`, () => fleet.remove(agent));
        this.say('info', 'config_agent_removed', `${file}: removed agent ${agent}: stopped; its data is kept`, {
          agent,
        });
      }),
      ...plan.added.map(async (agent) => {
        if (await this.attempt(agent, `${file}: added agent ${agent}`, () => fleet.start(agent))) {
          this.say('info', 'config_agent_added', `${file}: added agent ${agent}: started`, { agent });
        }
      }),
      ...plan.changed.map(async ({ name: agent, keys, restart }) => {
        const what = `${file}: changed agent ${agent} (${keys.join(', ')})`;
        if (!restart) {
          this.say('info', 'config_agent_changed', `${what}: applied without a restart`, { agent, keys });
          return;
        }
        const restarted = await this.attempt(agent, what, async () => {
          await fleet.stop(agent);
          await fleet.start(agent);
        });
        if (restarted)
          this.say('info', 'config_agent_changed', `${what}: restarted with the new settings`, { agent, keys });
      }),
    ]);
  }

  /** Runs one agent's lifecycle step; a failure is reported with what was being done. */
  private async attempt(agent: string, what: string, step: () => Promise<void>): Promise<boolean> {
    try {
      await step();
      return true;
    } catch (err) {
      this.say('error', 'config_agent_failed', `${what}: failed: ${err instanceof Error ? err.message : String(err)}`, {
        agent,
      });
      return false;
    }
  }

  private refuse(error: ConfigError): void {
    const text = error.located.join('\n');
    if (text === this.lastError) return;
    this.lastError = text;
    const message = `config: an edit was refused, the previous config stays in force:\n${text}`;
    this.options.logger.error({ event: 'config_invalid', errors: error.located }, message);
    this.options.events.record({
      agent: null,
      kind: 'config_invalid',
      subject: 'config',
      detail: { errors: error.located },
    });
    this.options.progress(message);
  }

  private say(
    level: 'info' | 'warn' | 'error',
    event: string,
    message: string,
    detail: Record<string, unknown> = {},
  ): void {
    this.options.logger[level]({ event, ...detail }, message);
    const agent = typeof detail.agent === 'string' ? detail.agent : null;
    this.options.events.record({ agent, kind: event, subject: 'config', detail: { message, ...detail } });
    this.options.progress(message);
  }
}
