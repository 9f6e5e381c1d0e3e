// The health monitor: every mesh.health.interval_ms it looks at each running agent
// (container state through the runtime, then GET /health). A container that is gone or
// exited, or that left failed_checks checks in a row unanswered, is restarted with
// exponential backoff; past max_restarts_per_hour restarts within an hour the agent is
// marked failed with the reason. Invariants: at most one check and one recovery run
// per agent at a time; restarts go through the fleet, which serializes them with every
// other lifecycle operation and ignores a verdict about an agent that was started,
// stopped or adopted since it was observed; a paused container (docker pause) is an
// operator's choice and is left alone; the monitor never throws into its timers.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../shared/logging.js';
import type { HealthConfig } from '../../shared/config/schema.js';
import type { NewEvent } from '../events/log.js';
import { agentHealthy } from './agent-client.js';
import type { AgentRuntime } from './types.js';

export const HOUR_MS = 60 * 60 * 1000;
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 60_000;
const HEALTH_TIMEOUT_MS = 1500;

/** Restarts in `history` (ms timestamps) within the hour before `now`. */
export function restartsWithinHour(history: readonly number[], now: number): number {
  return history.filter((at) => now - at < HOUR_MS).length;
}

/** The first restart in an hour is immediate (a crash should cost seconds), then 1 s, 2 s, 4 s... up to a minute. */
export function restartDelayMs(recentRestarts: number): number {
  if (recentRestarts === 0) return 0;
  return Math.min(BACKOFF_BASE_MS * 2 ** (recentRestarts - 1), BACKOFF_MAX_MS);
}

export type RestartDecision = { action: 'restart'; delayMs: number } | { action: 'fail'; reason: string };

export function decideRestart(
  history: readonly number[],
  now: number,
  maxPerHour: number,
  problem: string,
): RestartDecision {
  const recent = restartsWithinHour(history, now);
  if (recent >= maxPerHour) {
    return {
      action: 'fail',
      reason: `gave up after ${recent} restarts within an hour (mesh.health.max_restarts_per_hour is ${maxPerHour}); last problem: ${problem}`,
    };
  }
  return { action: 'restart', delayMs: restartDelayMs(recent) };
}

/** What one check saw. state: the runtime's word for the container, null when there is none. */
export interface Observation {
  state: string | null;
  answered: boolean;
}

export type CheckVerdict =
  | { status: 'ok' }
  | { status: 'paused' }
  | { status: 'failing'; failures: number; reason: string }
  | { status: 'dead'; reason: string };

/** `failuresBefore`: unanswered checks in a row before this one. */
export function judgeCheck(seen: Observation, failuresBefore: number, failedChecks: number): CheckVerdict {
  if (seen.state === null) return { status: 'dead', reason: 'its container is gone' };
  if (seen.state === 'paused') return { status: 'paused' };
  // 'unknown': the runtime could not say (Docker busy); the agent's own answer decides.
  if (seen.state !== 'running' && seen.state !== 'unknown')
    return { status: 'dead', reason: `its container is ${seen.state}` };
  if (seen.answered) return { status: 'ok' };
  const failures = failuresBefore + 1;
  const reason = `it did not answer GET /health ${failures} time${failures === 1 ? '' : 's'} in a row`;
  return failures >= failedChecks ? { status: 'dead', reason } : { status: 'failing', failures, reason };
}

/** Looks at one agent: its container's state, then (when running) GET /health. Never throws. */
export async function observeAgent(runtime: AgentRuntime, agent: string, url: string): Promise<Observation> {
  const state = await runtime.state(agent).catch(() => 'unknown');
  if (state !== 'running' && state !== 'unknown') return { state, answered: false };
  return { state, answered: await agentHealthy(url, HEALTH_TIMEOUT_MS) };
}

export interface WatchedAgent {
  name: string;
  url: string;
  /** The fleet's lifecycle generation when the agent was listed. */
  generation: number;
}

export type RestartOutcome =
  | { status: 'skipped' }
  | { status: 'healthy'; generation: number }
  | { status: 'failed'; generation: number; error: string };

/** What the monitor needs from the fleet; every verdict names the generation it is about. */
export interface MonitoredFleet {
  /** Agents with a running container that the monitor should check. */
  watchList(): WatchedAgent[];
  markHealthy(name: string, generation: number): void;
  markUnhealthy(name: string, generation: number, reason: string): void;
  markFailed(name: string, generation: number, reason: string): void;
  restart(name: string, generation: number, reason: string): Promise<RestartOutcome>;
  /** When the monitor restarted the agent (ms timestamps). */
  restartHistory(name: string): readonly number[];
}

export interface HealthMonitorOptions {
  fleet: MonitoredFleet;
  observe: (agent: string, url: string) => Promise<Observation>;
  config: () => HealthConfig;
  /** The audit trail (agent_restart, agent_failed); never throws. */
  events: { record: (event: NewEvent) => void };
  logger: Logger;
}

export class HealthMonitor {
  private readonly options: HealthMonitorOptions;
  private readonly failures = new Map<string, number>();
  private readonly checks = new Map<string, Promise<boolean>>();
  private readonly recovering = new Set<string>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;

  constructor(options: HealthMonitorOptions) {
    this.options = options;
  }

  start(): void {
    if (this.abort.signal.aborted || this.timer) return;
    const tick = () => {
      for (const watched of this.options.fleet.watchList()) void this.check(watched);
      this.timer = setTimeout(tick, this.options.config().interval_ms);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, this.options.config().interval_ms);
    this.timer.unref();
  }

  /** Stops checking and drops pending restarts; a restart already running finishes in the fleet. */
  stop(): void {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Checks `agent` at once; true when it answered. The dispatcher asks this after a
   *  failed hand-over, so that a crash is seen (and the restart begins) right away. */
  checkNow(agent: string): Promise<boolean> {
    const watched = this.options.fleet.watchList().find((w) => w.name === agent);
    return watched ? this.check(watched) : Promise.resolve(false);
  }

  private check(watched: WatchedAgent): Promise<boolean> {
    if (this.abort.signal.aborted || this.recovering.has(watched.name)) return Promise.resolve(false);
    const running = this.checks.get(watched.name);
    if (running) return running;
    const check = this.runCheck(watched)
      .catch((err: unknown) => {
        this.options.logger.error({ agent: watched.name, event: 'health_check_failed', err }, 'health check failed');
        return false;
      })
      .finally(() => this.checks.delete(watched.name));
    this.checks.set(watched.name, check);
    return check;
  }

  private async runCheck(watched: WatchedAgent): Promise<boolean> {
    const { fleet, observe, config } = this.options;
    const seen = await observe(watched.name, watched.url);
    if (this.abort.signal.aborted) return false;
    const verdict = judgeCheck(seen, this.failures.get(watched.name) ?? 0, config().failed_checks);
    switch (verdict.status) {
      case 'ok':
        this.failures.delete(watched.name);
        fleet.markHealthy(watched.name, watched.generation);
        return true;
      case 'paused':
        this.failures.delete(watched.name);
        return false;
      case 'failing':
        this.failures.set(watched.name, verdict.failures);
        fleet.markUnhealthy(watched.name, watched.generation, verdict.reason);
        return false;
      case 'dead':
        this.failures.delete(watched.name);
        void this.recover(watched, verdict.reason);
        return false;
    }
  }

  /** Restarts until the agent is healthy again, the hourly cap is reached, or the agent
   *  changed hands (a person stopped, removed or restarted it). */
  private async recover(watched: WatchedAgent, problem: string): Promise<void> {
    const { fleet, config, events, logger } = this.options;
    const { name } = watched;
    if (this.recovering.has(name)) return;
    this.recovering.add(name);
    try {
      let generation = watched.generation;
      let reason = problem;
      fleet.markUnhealthy(name, generation, reason);
      for (;;) {
        const decision = decideRestart(fleet.restartHistory(name), Date.now(), config().max_restarts_per_hour, reason);
        if (decision.action === 'fail') {
          fleet.markFailed(name, generation, decision.reason);
          events.record({ agent: name, kind: 'agent_failed', subject: name, detail: { reason: decision.reason } });
          logger.error({ agent: name, event: 'agent_gave_up', reason: decision.reason }, 'agent marked failed');
          return;
        }
        if (decision.delayMs > 0) {
          fleet.markUnhealthy(name, generation, `${reason} (restarting in ${Math.round(decision.delayMs / 1000)} s)`);
          await sleep(decision.delayMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
        }
        if (this.abort.signal.aborted) return;
        logger.warn({ agent: name, event: 'agent_restart', reason }, 'restarting agent');
        const outcome = await fleet.restart(name, generation, reason);
        events.record({
          agent: name,
          kind: 'agent_restart',
          subject: name,
          detail: { reason, outcome: outcome.status, ...(outcome.status === 'failed' ? { error: outcome.error } : {}) },
        });
        if (outcome.status !== 'failed') return;
        generation = outcome.generation;
        reason = outcome.error;
      }
    } finally {
      this.recovering.delete(name);
    }
  }
}
