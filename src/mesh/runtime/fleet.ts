// The fleet: one slot per configured agent with its container, tokens and health.
// Lifecycle operations on one agent (start, stop, restart, adopt, remove) never
// overlap: each runs after the previous one on that agent has settled. Each of them
// bumps the slot's generation, so a health verdict about an earlier container is
// ignored. Every container start records its tokens (ContainerRecords) so that a
// later mesh can adopt the container instead of replacing it. A starting agent is
// healthy when it says it listens (POST /mesh/agent/ready, announceReady) and its
// /health answers; /health is also asked every HEALTH_POLL_MS in case the word is lost.
import type { Logger } from '../../shared/logging.js';
import { LegionError } from '../../shared/errors.js';
import { newSecret } from '../../shared/ids.js';
import { AGENT_ENV } from '../../shared/wire/agent.js';
import type { AgentStatusEntry, Health, LaneStatus } from '../../shared/wire/admin.js';
import { agentModel, agentRuntime, type Project } from '../../shared/config/project.js';
import { parseMemoryLimit, type AgentEntry } from '../../shared/config/schema.js';
import { agentSkillDirs } from '../../shared/config/skills.js';
import type { AgentTokens } from '../http/agent-auth.js';
import { egressProxyEnv } from '../egress/proxy-env.js';
import { agentHealthy, type AgentEndpoint } from './agent-client.js';
import type { AdoptedAgent, AgentRuntime, RunningAgent } from './types.js';
import type { Decision } from '../../shared/config/permissions/types.js';
import type { ContainerRecord } from './adoption.js';
import { HOUR_MS, restartsWithinHour, type MonitoredFleet, type RestartOutcome, type WatchedAgent } from './health.js';

const HEALTH_TIMEOUT_MS = 30_000;
/** While an agent boots the mesh waits for its word that it listens; /health is asked only
 *  this often meanwhile (each ask competes with the boot for CPU), and whether its
 *  container still runs (a Docker inspect) only every STATE_CHECK_MS. */
const HEALTH_POLL_MS = 250;
const STATE_CHECK_MS = 500;

interface AgentSlot {
  name: string;
  health: Health;
  running: RunningAgent | null;
  serverToken: string | null;
  lastError: string | null;
  busy: number;
  lifecycle: Promise<void>;
  generation: number;
  /** When the health monitor restarted the agent (ms); a deliberate start clears it. */
  restarts: number[];
  /** Wakes the wait for the container now starting when the agent says it listens. */
  announced: (() => void) | null;
}

export interface FleetOptions {
  project: () => Project;
  runtime: AgentRuntime;
  tokens: AgentTokens;
  logger: Logger;
  /** The agent API's URL as agents reach it; known once the mesh listens. */
  meshUrl: () => string;
  /** Per-agent egress tokens (minted and revoked with the mesh token) and the egress
   *  proxy's URL as agents reach it; containers get both in HTTP(S)_PROXY. */
  egress: { tokens: AgentTokens; url: () => string };
  /** Told each time an agent becomes or is found healthy (its lane can be worked). */
  onHealthy: (agent: string) => void;
  /** Told when an agent stops or is marked failed: work waiting for it will not begin. */
  onDown: (agent: string, reason: string) => void;
  laneStatus: (agent: string) => LaneStatus;
  /** can_use_browser of the agent: with `browser: true` in agents.yaml, it selects the browser image. */
  browserAllowed?: (agent: string) => Decision;
  /** A live sub-agent's entry (its parent's, with the role, instructions and model it was
   *  spawned with) and parent; null for any other name. Sub-agents get a slot like any
   *  agent but are not in status(), and stopping one removes its volume too. */
  subAgent?: (name: string) => { parent: string; entry: AgentEntry } | null;
  /** Where each container's tokens are kept for adoption by a later mesh. */
  containers: { save: (record: ContainerRecord) => void; forget: (agent: string) => void };
}

export class Fleet implements MonitoredFleet {
  private readonly slots = new Map<string, AgentSlot>();
  private readonly options: FleetOptions;

  constructor(options: FleetOptions) {
    this.options = options;
  }

  private slot(name: string): AgentSlot {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = {
        name,
        health: 'stopped',
        running: null,
        serverToken: null,
        lastError: null,
        busy: 0,
        lifecycle: Promise.resolve(),
        generation: 0,
        restarts: [],
        announced: null,
      };
      this.slots.set(name, slot);
    }
    return slot;
  }

  /** Runs `operation` after every earlier lifecycle operation on `name` has settled. */
  private serialize<T>(name: string, operation: (slot: AgentSlot) => Promise<T>): Promise<T> {
    const slot = this.slot(name);
    const result = slot.lifecycle.then(() => operation(slot));
    slot.lifecycle = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Starts every configured agent but `skip` (adopted ones) in parallel; resolves when each is healthy or failed. */
  async startAll(
    skip: ReadonlySet<string> = new Set(),
  ): Promise<{ name: string; ok: boolean; error?: string; ms: number }[]> {
    const names = Object.keys(this.options.project().agents).filter((name) => !skip.has(name));
    return Promise.all(
      names.map(async (name) => {
        const begin = Date.now();
        try {
          await this.start(name);
          return { name, ok: true, ms: Date.now() - begin };
        } catch (err) {
          return { name, ok: false, error: err instanceof Error ? err.message : String(err), ms: Date.now() - begin };
        }
      }),
    );
  }

  /** A deliberate start: the health monitor's restart budget begins afresh. */
  start(name: string): Promise<void> {
    return this.serialize(name, (slot) => {
      slot.restarts = [];
      return this.startSlot(slot);
    });
  }

  /** The health monitor's restart: a new container on the same volume, unless the agent
   *  was started, stopped or adopted since `generation` was observed. */
  restart(name: string, generation: number, reason: string): Promise<RestartOutcome> {
    return this.serialize(name, async (slot): Promise<RestartOutcome> => {
      if (slot.generation !== generation) return { status: 'skipped' };
      const now = Date.now();
      slot.restarts = [...slot.restarts.filter((at) => now - at < HOUR_MS), now];
      try {
        await this.startSlot(slot);
        // Healthy again, but status keeps saying why it had to be restarted.
        slot.lastError = `restarted: ${reason}`;
        return { status: 'healthy', generation: slot.generation };
      } catch (err) {
        return {
          status: 'failed',
          generation: slot.generation,
          error: slot.lastError ?? (err instanceof Error ? err.message : String(err)),
        };
      }
    });
  }

  /** Takes over a container of an earlier mesh that still runs and answers with its stored tokens. */
  adopt(name: string, adopted: AdoptedAgent): Promise<void> {
    return this.serialize(name, async (slot) => {
      slot.generation += 1;
      slot.running = adopted.running;
      slot.serverToken = adopted.serverToken;
      this.options.tokens.restore(name, adopted.meshToken);
      this.options.egress.tokens.restore(name, adopted.egressToken);
      slot.health = 'healthy';
      slot.lastError = null;
      this.options.logger.info(
        { agent: name, event: 'agent_adopted', container: adopted.running.name },
        'agent adopted (still running)',
      );
      this.options.onHealthy(name);
    });
  }

  /** `browser: true` counts only with can_use_browser; without it the agent starts on the small image, and the log says why. */
  private wantsBrowser(name: string, configured: boolean): boolean {
    if (!configured) return false;
    const decision = this.options.browserAllowed?.(name) ?? { allowed: false, reason: `${name} may not use a browser` };
    if (decision.allowed) return true;
    this.options.logger.warn(
      { agent: name, event: 'browser_not_allowed', reason: decision.reason },
      `${name} has browser: true in config/agents.yaml but ${decision.reason}; starting it without a browser`,
    );
    return false;
  }

  private async startSlot(slot: AgentSlot): Promise<void> {
    const project = this.options.project();
    const sub = this.options.subAgent?.(slot.name) ?? null;
    const entry = project.agents[slot.name] ?? sub?.entry;
    if (!entry) throw new LegionError('unknown_agent', `no agent named "${slot.name}" in config/agents.yaml`);
    const { runtime, tokens, logger } = this.options;
    slot.generation += 1;
    slot.health = 'starting';
    slot.lastError = null;
    const serverToken = newSecret();
    const meshToken = tokens.mint(slot.name);
    const egressToken = this.options.egress.tokens.mint(slot.name);
    const browser = sub === null && this.wantsBrowser(slot.name, entry.browser);
    // Set before the container starts: its word may come before runtime.start returns.
    const ready = new Promise<void>((resolve) => {
      slot.announced = resolve;
    });
    try {
      const running = await runtime.start({
        agent: slot.name,
        env: {
          [AGENT_ENV.name]: slot.name,
          [AGENT_ENV.meshUrl]: this.options.meshUrl(),
          ...egressProxyEnv({
            proxyUrl: this.options.egress.url(),
            agent: slot.name,
            token: egressToken,
            meshUrl: this.options.meshUrl(),
          }),
          ...(browser ? { [AGENT_ENV.browserIdleS]: String(entry.browser_idle_timeout_s) } : {}),
        },
        secrets: { mesh_token: meshToken, server_token: serverToken },
        memoryBytes: parseMemoryLimit(entry.resources.memory_limit),
        cpus: entry.resources.cpu_limit,
        runtime: agentRuntime(project, sub?.parent ?? slot.name),
        browser,
        skillDirs: agentSkillDirs(project.dir, entry),
        ...(sub ? { parent: sub.parent } : {}),
      });
      slot.running = running;
      slot.serverToken = serverToken;
      this.options.containers.save({
        agent: slot.name,
        container_id: running.id,
        server_token: serverToken,
        mesh_token: meshToken,
        egress_token: egressToken,
        mesh_url: this.options.meshUrl(),
        egress_url: this.options.egress.url(),
      });
      await this.waitHealthy(slot.name, running.url, ready);
      slot.health = 'healthy';
      logger.info({ agent: slot.name, event: 'agent_started', container: running.name }, 'agent healthy');
      this.options.onHealthy(slot.name);
    } catch (err) {
      slot.health = 'failed';
      slot.lastError = err instanceof Error ? err.message : String(err);
      tokens.revoke(slot.name);
      this.options.egress.tokens.revoke(slot.name);
      logger.error({ agent: slot.name, event: 'agent_start_failed', err: slot.lastError }, 'agent failed to start');
      throw err;
    } finally {
      slot.announced = null;
    }
  }

  /** The agent's word (through its agent API token) that its server listens. */
  announceReady(name: string): void {
    this.slots.get(name)?.announced?.();
  }

  private async waitHealthy(name: string, url: string, ready: Promise<void>): Promise<void> {
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    let stateCheckedAt = Date.now();
    let announced = false;
    void ready.then(() => {
      announced = true;
    });
    while (Date.now() < deadline) {
      // After the agent's word, /health is asked once more: it proves the mesh reaches it.
      if (await agentHealthy(url, 500)) return;
      if (Date.now() - stateCheckedAt >= STATE_CHECK_MS) {
        stateCheckedAt = Date.now();
        const state = await this.options.runtime.state(name);
        if (state !== 'running') {
          const logs = await this.options.runtime.logs(name, 20);
          throw new LegionError(
            'agent_exited',
            `agent ${name} exited while starting (state ${state ?? 'gone'})${logs ? `; its last output:\n${logs}` : ''}`,
          );
        }
      }
      if (!announced) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([ready, new Promise((r) => (timer = setTimeout(r, HEALTH_POLL_MS)))]);
        clearTimeout(timer);
      } else await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
    }
    const logs = await this.options.runtime.logs(name, 20);
    throw new LegionError(
      'agent_unhealthy',
      `agent ${name} did not become healthy within ${HEALTH_TIMEOUT_MS / 1000}s${logs ? `; its last output:\n${logs}` : ''}`,
    );
  }

  stop(name: string): Promise<void> {
    return this.serialize(name, async (slot) => {
      slot.generation += 1;
      this.options.tokens.revoke(name);
      this.options.egress.tokens.revoke(name);
      const { runtime } = this.options;
      if (this.options.subAgent?.(name) && runtime.discard) await runtime.discard(name);
      else await runtime.stop(name);
      this.options.containers.forget(name);
      slot.running = null;
      slot.serverToken = null;
      slot.health = 'stopped';
      this.options.onDown(name, 'stopped');
    });
  }

  /** Stops and forgets the agent. */
  async remove(name: string): Promise<void> {
    await this.stop(name);
    this.slots.delete(name);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.slots.keys()].map((name) => this.stop(name)));
  }

  isHealthy(name: string): boolean {
    return this.slots.get(name)?.health === 'healthy';
  }

  /** Agents with a container that the health monitor checks. Not sub-agents: a restart
   *  would lose their one task, so a sub-agent that stops answering fails its run instead. */
  watchList(): WatchedAgent[] {
    return [...this.slots.values()]
      .filter((slot) => slot.running && slot.serverToken && (slot.health === 'healthy' || slot.health === 'unhealthy'))
      .filter((slot) => !this.options.subAgent?.(slot.name))
      .map((slot) => ({ name: slot.name, url: slot.running?.url ?? '', generation: slot.generation }));
  }

  /** A good check; tells onHealthy every time, so a lane whose item was put back while
   *  the agent looked down resumes even if the agent never left 'healthy'. */
  markHealthy(name: string, generation: number): void {
    const slot = this.slots.get(name);
    if (!slot || slot.generation !== generation || (slot.health !== 'healthy' && slot.health !== 'unhealthy')) return;
    if (slot.health === 'unhealthy')
      this.options.logger.info({ agent: name, event: 'agent_answers' }, 'agent answers again');
    slot.health = 'healthy';
    this.options.onHealthy(name);
  }

  markUnhealthy(name: string, generation: number, reason: string): void {
    const slot = this.slots.get(name);
    if (!slot || slot.generation !== generation || slot.health === 'stopped' || slot.health === 'starting') return;
    slot.health = 'unhealthy';
    slot.lastError = reason;
  }

  /** The monitor gave up: the agent's tokens stop working and waiting work is refused;
   *  its container is left for inspection (docker logs) until the next start or stop. */
  markFailed(name: string, generation: number, reason: string): void {
    const slot = this.slots.get(name);
    if (!slot || slot.generation !== generation || slot.health === 'stopped') return;
    slot.health = 'failed';
    slot.lastError = reason;
    this.options.tokens.revoke(name);
    this.options.egress.tokens.revoke(name);
    this.options.onDown(name, reason);
  }

  restartHistory(name: string): readonly number[] {
    return this.slots.get(name)?.restarts ?? [];
  }

  private assertConfigured(name: string): void {
    if (!this.options.project().agents[name] && !this.options.subAgent?.(name)) {
      const known = Object.keys(this.options.project().agents).join(', ') || 'none';
      throw new LegionError('unknown_agent', `no agent named "${name}" (agents: ${known})`);
    }
  }

  /** Throws unless `name` can take work now or soon: healthy, starting, or unhealthy
   *  (the monitor is restarting it). Stopped and failed agents refuse at once. */
  assertAcceptsWork(name: string): void {
    this.assertConfigured(name);
    const slot = this.slots.get(name);
    if (!slot || slot.health === 'stopped' || slot.health === 'failed') {
      throw new LegionError(
        'agent_not_running',
        `agent ${name} is not running (${slot?.health ?? 'stopped'}${slot?.lastError ? `: ${slot.lastError}` : ''})`,
      );
    }
  }

  /** Where to reach a healthy agent; a clear error otherwise. */
  endpoint(name: string): AgentEndpoint {
    this.assertConfigured(name);
    const slot = this.slots.get(name);
    if (!slot?.running || !slot.serverToken || slot.health !== 'healthy') {
      throw new LegionError(
        'agent_not_running',
        `agent ${name} is not running (${slot?.health ?? 'stopped'}${slot?.lastError ? `: ${slot.lastError}` : ''})`,
      );
    }
    return { agent: name, url: slot.running.url, serverToken: slot.serverToken };
  }

  /** Counts a chat in progress while `work` runs. */
  async whileBusy<T>(name: string, work: () => Promise<T>): Promise<T> {
    const slot = this.slot(name);
    slot.busy += 1;
    try {
      return await work();
    } finally {
      slot.busy -= 1;
    }
  }

  async status(): Promise<AgentStatusEntry[]> {
    const project = this.options.project();
    return Promise.all(
      Object.entries(project.agents).map(async ([name, entry]) => {
        const slot = this.slot(name);
        const state = slot.running ? await this.options.runtime.state(name) : null;
        const health: Health = slot.health === 'healthy' && state !== 'running' ? 'unhealthy' : slot.health;
        return {
          name,
          role: entry.role,
          model: agentModel(project, name),
          health,
          container: slot.running
            ? {
                id: slot.running.id.slice(0, 12),
                name: slot.running.name,
                state: state ?? 'gone',
                image: slot.running.image,
                ...slot.running.sandbox,
              }
            : null,
          busy: slot.busy > 0,
          lane: this.options.laneStatus(name),
          restarts: restartsWithinHour(slot.restarts, Date.now()),
          last_error: slot.lastError,
        };
      }),
    );
  }
}
