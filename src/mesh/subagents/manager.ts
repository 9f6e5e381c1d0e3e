// The live sub-agents of the fleet (spawn_agent). A run: checked (policy.ts), scoped in
// the permission matrix, started as a fleet slot of its own (the same container spec,
// network, firewall and tokens as any agent: the fleet's start), handed its task in task
// mode, then removed with its volume however it ended. Invariants: a run's container is
// removed before its permission scope and fleet entry go (the fleet needs the entry to
// know it must discard the volume); a run ends at its deadline (timeout_s counted from
// the spawn), when its parent stops or is removed (endFor), or when the mesh stops
// (endAll, which waits until every container is gone); its final view is kept until its
// parent has read it, or FINISHED_TTL_MS. Runs live only in this mesh's memory: a mesh
// that starts removes every sub-agent container it finds (orphans.ts).
import { LegionError, errorBody, type ErrorBody } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import { agentModel, type Project } from '../../shared/config/project.js';
import type { AgentEntry } from '../../shared/config/schema.js';
import type { RequestedPermissions } from '../../shared/config/permissions/schema.js';
import type { Decision } from '../../shared/config/permissions/types.js';
import type { SpawnDecision, SubAgentScope } from '../../shared/config/permissions/subagent.js';
import { newSubAgentId } from '../../shared/subagents.js';
import type { LlmChatResponse, Message, Usage } from '../../shared/wire/llm.js';
import { isFinalTaskStatus, type TaskResult } from '../../shared/wire/task.js';
import {
  DEFAULT_SPAWN_TIMEOUT_S,
  type SpawnAccepted,
  type SpawnRequest,
  type SubAgentRunStatus,
  type SubAgentRunView,
  type SubAgentStatus,
} from '../../shared/wire/subagents.js';
import type { EventLog } from '../events/log.js';
import { fetchTaskResult, postTask, type AgentEndpoint } from '../runtime/agent-client.js';
import { decideSpawn } from './policy.js';

/** How long a final view waits for its parent to read it. */
const FINISHED_TTL_MS = 10 * 60_000;
/** Seconds one GET /result on the sub-agent waits; the run's abort ends it sooner. */
const RESULT_WAIT_S = 10;

export interface SubAgentsOptions {
  permissions: {
    spawnGrant(agent: string): SpawnDecision;
    checkRequestWithin(parent: string, requested: RequestedPermissions): Decision;
    scopeSubAgent(scope: SubAgentScope): void;
    unscopeSubAgent(id: string): void;
  };
  events: EventLog;
  fleet: {
    start(name: string): Promise<void>;
    remove(name: string): Promise<void>;
    endpoint(name: string): AgentEndpoint;
  };
  project: () => Project;
  logger: Logger;
}

interface Run {
  id: string;
  parent: string;
  role: string;
  model: string;
  entry: AgentEntry;
  request: SpawnRequest;
  timeoutS: number;
  status: SubAgentRunStatus;
  output: unknown;
  error: ErrorBody | null;
  usage: Usage;
  startedAt: Date;
  finishedAt: Date | null;
  /** The conversation at its last model call, and that call's answer. */
  lastCall: { messages: readonly Message[]; answer: LlmChatResponse['message'] } | null;
  /** Why it was ended early; set before `abort` fires. */
  ending: { code: 'subagent_timeout' | 'subagent_ended'; message: string } | null;
  abort: AbortController;
  settled: Promise<void>;
}

const isLive = (run: Run) => run.status === 'starting' || run.status === 'running';

export class SubAgents {
  private readonly runs = new Map<string, Run>();

  constructor(private readonly options: SubAgentsOptions) {}

  /** Checks the request (a refusal throws, naming the rule) and starts the run; answers at once. */
  spawn(parent: string, request: SpawnRequest, trace: string | null): SpawnAccepted {
    this.prune();
    const { permissions, project } = this.options;
    const verdict = decideSpawn({
      parent,
      grant: permissions.spawnGrant(parent),
      live: [...this.runs.values()].filter((run) => run.parent === parent && isLive(run)).length,
      requestedModel: request.model,
      parentModel: agentModel(project(), parent),
      permissions: request.permissions ? permissions.checkRequestWithin(parent, request.permissions) : null,
    });
    if (verdict.action === 'refuse') {
      this.options.events.record({
        agent: parent,
        kind: 'denied',
        subject: 'spawn_agent',
        detail: { permission: 'can_spawn', reason: verdict.reason },
        trace,
      });
      throw new LegionError(verdict.code, verdict.reason);
    }
    const parentEntry = project().agents[parent];
    if (!parentEntry) throw new LegionError('unknown_agent', `agent ${parent} is no longer configured`);
    const id = newSubAgentId(parent);
    const timeoutS = request.timeout_s ?? DEFAULT_SPAWN_TIMEOUT_S;
    const run: Run = {
      id,
      parent,
      role: request.role,
      model: verdict.model,
      // The parent's resources and runtime; nothing that would make it a second parent (subscriptions, heartbeat, browser).
      entry: {
        ...parentEntry,
        role: request.role,
        system_prompt: request.instructions,
        model: verdict.model,
        subscriptions: [],
        heartbeat: undefined,
        budget: undefined,
        browser: false,
      },
      request,
      timeoutS,
      status: 'starting',
      output: null,
      error: null,
      usage: { prompt_tokens: 0, completion_tokens: 0 },
      startedAt: new Date(),
      finishedAt: null,
      lastCall: null,
      ending: null,
      abort: new AbortController(),
      settled: Promise.resolve(),
    };
    this.runs.set(id, run);
    permissions.scopeSubAgent({ id, parent, requested: request.permissions ?? null });
    this.options.events.record({
      agent: parent,
      kind: 'subagent_spawned',
      subject: id,
      detail: { role: run.role, model: run.model, timeout_s: timeoutS },
      trace,
    });
    run.settled = this.drive(run, trace);
    return { id, model: run.model, timeout_s: timeoutS };
  }

  private async drive(run: Run, trace: string | null): Promise<void> {
    const { fleet, logger } = this.options;
    const deadline = setTimeout(
      () =>
        this.end(run, {
          code: 'subagent_timeout',
          message: `sub-agent ${run.id} did not finish within timeout_s (${run.timeoutS} s); it was stopped and removed`,
        }),
      run.timeoutS * 1000,
    );
    const signal = run.abort.signal;
    try {
      await fleet.start(run.id);
      if (signal.aborted) throw signal.reason;
      run.status = 'running';
      const endpoint = fleet.endpoint(run.id);
      const remainingS = Math.max(1, run.timeoutS - (Date.now() - run.startedAt.getTime()) / 1000);
      let result = (
        await postTask(
          endpoint,
          {
            task_id: run.id,
            task_type: 'subagent',
            input: run.request.task,
            timeout_s: remainingS,
            ...(trace ? { trace } : {}),
          },
          signal,
        )
      ).result;
      while (!isFinalTaskStatus(result.status)) {
        const next = await fetchTaskResult(endpoint, run.id, RESULT_WAIT_S, signal);
        if (!next) throw new LegionError('subagent_failed', `sub-agent ${run.id} lost its task`);
        result = next;
      }
      this.finish(run, result);
    } catch (err) {
      if (run.ending) this.fail(run, run.ending.code === 'subagent_timeout' ? 'timeout' : 'ended', run.ending);
      else this.fail(run, 'failed', errorBody(err));
    } finally {
      clearTimeout(deadline);
      try {
        await fleet.remove(run.id);
      } catch (err) {
        // The next mesh start removes it (orphans.ts); the run's answer stands.
        logger.error({ agent: run.id, event: 'subagent_remove_failed', err }, 'could not remove a sub-agent container');
      }
      this.options.permissions.unscopeSubAgent(run.id);
      this.options.events.record({
        agent: run.parent,
        kind: 'subagent_finished',
        subject: run.id,
        detail: { status: run.status, usage: run.usage, ...(run.error ? { error: run.error.message } : {}) },
        trace,
      });
      logger.info(
        { agent: run.parent, event: 'subagent_finished', subagent: run.id, status: run.status },
        'sub-agent finished',
      );
    }
  }

  private finish(run: Run, result: TaskResult): void {
    run.usage = result.usage;
    if (result.status === 'done') {
      run.status = 'done';
      run.output = result.output;
      run.finishedAt = new Date();
      return;
    }
    const error = result.error ?? { code: result.status, message: `the task ended ${result.status}` };
    if (result.status === 'timeout')
      this.fail(run, 'timeout', {
        code: 'subagent_timeout',
        message: `sub-agent ${run.id} did not finish within timeout_s (${run.timeoutS} s): ${error.message}`,
      });
    else this.fail(run, 'failed', { code: 'subagent_failed', message: `sub-agent ${run.id} failed: ${error.message}` });
  }

  private fail(run: Run, status: SubAgentRunStatus, error: ErrorBody): void {
    if (!isLive(run)) return;
    run.status = status;
    run.error = error;
    run.finishedAt = new Date();
  }

  private end(run: Run, ending: NonNullable<Run['ending']>): void {
    if (!isLive(run) || run.ending) return;
    run.ending = ending;
    run.abort.abort(new LegionError(ending.code, ending.message));
  }

  /** The run as its parent sees it, once final or after `waitS`; read once final, it is forgotten. */
  async wait(parent: string, id: string, waitS: number, signal?: AbortSignal): Promise<SubAgentRunView> {
    const run = this.ownRun(parent, id);
    if (isLive(run) && waitS > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        run.settled,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, waitS * 1000);
          signal?.addEventListener('abort', () => resolve(), { once: true });
        }),
      ]);
      clearTimeout(timer);
    }
    const view = this.view(run);
    if (!isLive(run) && run.finishedAt) await run.settled.then(() => this.runs.delete(run.id));
    return view;
  }

  /** The parent ends its own sub-agent (its turn was cancelled). */
  stop(parent: string, id: string): SubAgentRunView {
    const run = this.ownRun(parent, id);
    this.end(run, { code: 'subagent_ended', message: `sub-agent ${id} was stopped by ${parent}` });
    return this.view(run);
  }

  /** Ends the live sub-agents of `parent` (stopped, failed or removed); their containers go. */
  endFor(parent: string, reason: string): void {
    for (const run of this.runs.values()) {
      if (run.parent === parent)
        this.end(run, {
          code: 'subagent_ended',
          message: `sub-agent ${run.id} was ended: its parent ${parent} ${reason}`,
        });
    }
  }

  /** At mesh stop: ends every run and waits until each container is removed. */
  async endAll(reason: string): Promise<void> {
    for (const run of this.runs.values())
      this.end(run, { code: 'subagent_ended', message: `sub-agent ${run.id} was ended: ${reason}` });
    await Promise.all([...this.runs.values()].map((run) => run.settled));
  }

  /** A live sub-agent's entry and parent, for the fleet and the agent config route. */
  launchSpec(id: string): { parent: string; entry: AgentEntry } | null {
    const run = this.runs.get(id);
    return run ? { parent: run.parent, entry: run.entry } : null;
  }

  /** Ids of runs whose container may still exist (the orphan sweep keeps them). */
  liveIds(): Set<string> {
    return new Set(this.runs.keys());
  }

  /** Each model call of a sub-agent: the last one is its transcript. */
  observeLlm(agent: string, messages: readonly Message[], response: LlmChatResponse): void {
    const run = this.runs.get(agent);
    if (run) run.lastCall = { messages, answer: response.message };
  }

  /** The live sub-agents of `parent`, for legion status. */
  statusOf(parent: string): SubAgentStatus[] {
    return [...this.runs.values()]
      .filter((run) => run.parent === parent && isLive(run))
      .map((run) => ({
        id: run.id,
        role: run.role,
        model: run.model,
        status: run.status,
        started_at: run.startedAt.toISOString(),
      }));
  }

  private ownRun(parent: string, id: string): Run {
    const run = this.runs.get(id);
    if (!run || run.parent !== parent) throw new LegionError('not_found', `${parent} has no sub-agent ${id}`);
    return run;
  }

  private view(run: Run): SubAgentRunView {
    const final = !isLive(run);
    return {
      id: run.id,
      parent: run.parent,
      role: run.role,
      model: run.model,
      status: run.status,
      output: (run.output ?? null) as SubAgentRunView['output'],
      ...(run.error ? { error: run.error } : {}),
      transcript:
        final && run.lastCall ? ([...run.lastCall.messages, run.lastCall.answer] as SubAgentRunView['transcript']) : [],
      usage: run.usage,
      started_at: run.startedAt.toISOString(),
      finished_at: run.finishedAt?.toISOString() ?? null,
    };
  }

  /** Forgets final views nobody read within FINISHED_TTL_MS. */
  private prune(): void {
    const now = Date.now();
    for (const run of this.runs.values()) {
      if (run.finishedAt && now - run.finishedAt.getTime() > FINISHED_TTL_MS) this.runs.delete(run.id);
    }
  }
}
