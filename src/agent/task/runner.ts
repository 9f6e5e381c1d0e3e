// Task mode's control: accepts tasks, runs them through the agent's one-at-a-time
// queue (shared with chat turns, so a task never runs beside a chat turn), bounds them
// in time, cancels them, and records every transition in the TaskStore.
// Invariants: a request is fully checked (its output_schema compiled) before anything
// is stored, so a stored task can always run; a task id runs at most once per
// acceptance (a duplicate POST returns the stored result and schedules nothing);
// cancel writes `cancelled` at once and then stops the run, so its answer is final
// even while a tool winds down; at shutdown runs are stopped without writing, which
// leaves them for the next start to report as interrupted. A task's model calls wait
// out a mesh restart (patient-llm.ts), so a run the mesh resumes can still finish
// under its own id. A caller waiting for a task's final result (waitForFinal, the
// long-poll of GET /result) is answered as soon as the result is final, at its
// deadline, or at shutdown, whichever comes first.
import { EventEmitter } from 'node:events';
import { LegionError, errorBody } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import { parseOrThrow } from '../../shared/validate.js';
import type { AgentRuntimeConfig } from '../../shared/wire/agent.js';
import {
  TaskRequestSchema,
  isFinalTaskStatus,
  type TaskRequestParsed,
  type TaskResult,
} from '../../shared/wire/task.js';
import type { LlmClient } from '../mesh-client.js';
import type { Tool } from '../tools/registry.js';
import { compileOutputSchema, type OutputValidator } from './output.js';
import { patientLlm } from './patient-llm.js';
import { recallQuery } from './prompt.js';
import { runTask, type TaskOutcome } from './run.js';
import type { FinalRecord, TaskStore } from './store.js';

export interface TaskRunnerOptions {
  store: TaskStore;
  /** The server's turn queue: a task waits for the chat turns and tasks before it. */
  enqueue: (job: () => Promise<void>) => Promise<void>;
  llm: LlmClient;
  tools: readonly Tool[];
  dataDir: string;
  workspaceDir: string;
  /** Told of each file a tool wrote (see ToolContext.wrote). */
  wrote?: (file: string) => void;
  /** The agent's config and chat system prompt, fetched afresh, with what memory recalls for `query`. */
  prepare: (query: string) => Promise<{ config: AgentRuntimeConfig; systemPrompt: string }>;
  logger: Logger;
}

type StopReason = 'cancelled' | 'timeout' | 'shutdown';

/** The settled emitter's event for a server shutdown; task ids never contain a space. */
const SHUTDOWN = 'server shutdown';

/** A run's abort signal and why it was aborted: the first reason wins. */
class RunControl {
  readonly controller = new AbortController();
  reason: StopReason | null = null;

  stop(reason: StopReason): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.controller.abort();
  }
}

export class TaskRunner {
  /** Tasks of this process that are queued or running. */
  private readonly live = new Map<string, RunControl>();
  /** Emits a task id when its result became final, and SHUTDOWN when the server stops. */
  private readonly settled = new EventEmitter();
  private stopping = false;

  constructor(private readonly options: TaskRunnerOptions) {
    this.settled.setMaxListeners(0);
  }

  accept(body: unknown): { result: TaskResult; created: boolean } {
    const request = parseOrThrow(TaskRequestSchema, body, 'task request');
    const validator = request.output_schema ? compileOutputSchema(request.output_schema) : null;
    const accepted = this.options.store.accept(request);
    const log = this.options.logger.child({
      task: request.task_id,
      ...(request.trace ? { trace: request.trace } : {}),
    });
    if (accepted.created) {
      log.info({ event: 'task_accepted', task_type: request.task_type }, 'task accepted');
      this.schedule(request, validator, log);
    } else {
      log.info(
        { event: 'task_duplicate', status: accepted.result.status },
        'task id already known; returning its result',
      );
    }
    return accepted;
  }

  result(taskId: string): TaskResult {
    const result = this.options.store.get(taskId);
    if (!result) throw new LegionError('not_found', `no task "${taskId}" on this agent`);
    return result;
  }

  /** The result once it is final, or the current one after `waitMs` (or when `signal`
   *  aborts, or the server shuts down); 404 for an unknown id. */
  async waitForFinal(taskId: string, waitMs: number, signal?: AbortSignal): Promise<TaskResult> {
    const current = this.result(taskId);
    if (waitMs <= 0 || isFinalTaskStatus(current.status) || this.stopping) return current;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.settled.off(taskId, done);
        this.settled.off(SHUTDOWN, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.settled.once(taskId, done);
      this.settled.once(SHUTDOWN, done);
      signal?.addEventListener('abort', done, { once: true });
    });
    return this.result(taskId);
  }

  cancel(taskId: string): TaskResult {
    const current = this.result(taskId);
    if (isFinalTaskStatus(current.status)) return current;
    this.options.store.finish(
      taskId,
      { status: 'cancelled', error: { code: 'cancelled', message: 'cancelled (POST /cancel) before it finished' } },
      null,
    );
    this.live.get(taskId)?.stop('cancelled');
    this.settled.emit(taskId);
    return this.result(taskId);
  }

  /** Stops every run for a server shutdown, writing nothing (see the file comment), and
   *  answers every waiting caller with the result as it stands. */
  shutdown(): void {
    this.stopping = true;
    for (const control of this.live.values()) control.stop('shutdown');
    this.settled.emit(SHUTDOWN);
  }

  close(): void {
    this.options.store.close();
  }

  private schedule(request: TaskRequestParsed, validator: OutputValidator | null, log: Logger): void {
    const control = new RunControl();
    this.live.set(request.task_id, control);
    void this.options
      .enqueue(() => this.run(request, validator, control, log))
      .catch((err: unknown) => log.error({ event: 'task_run_error', err }, 'task run failed unexpectedly'))
      .finally(() => {
        if (this.live.get(request.task_id) === control) this.live.delete(request.task_id);
      });
  }

  private async run(
    request: TaskRequestParsed,
    validator: OutputValidator | null,
    control: RunControl,
    log: Logger,
  ): Promise<void> {
    // A task cancelled while it waited is already final in the store.
    if (control.reason !== null || !this.options.store.start(request.task_id)) return;
    log.info({ event: 'task_started', task_type: request.task_type }, 'task started');
    // The clock starts now: time spent waiting behind chat turns is not the task's.
    const timer =
      request.timeout_s === undefined ? null : setTimeout(() => control.stop('timeout'), request.timeout_s * 1000);
    let outcome: TaskOutcome;
    try {
      outcome = await this.attempt(request, validator, control.controller.signal, log);
    } finally {
      if (timer) clearTimeout(timer);
    }
    this.record(request, outcome, control.reason, log);
  }

  private async attempt(
    request: TaskRequestParsed,
    validator: OutputValidator | null,
    signal: AbortSignal,
    log: Logger,
  ): Promise<TaskOutcome> {
    let runtime: Awaited<ReturnType<TaskRunnerOptions['prepare']>>;
    try {
      runtime = await this.options.prepare(recallQuery(request));
    } catch (err) {
      const none = { usage: { prompt_tokens: 0, completion_tokens: 0 }, iterations: 0 };
      if (signal.aborted) return { status: 'aborted', ...none };
      const { code, message } = errorBody(err);
      return { status: 'failed', error: { code, message }, ...none };
    }
    return runTask({
      request,
      validator,
      llm: patientLlm(this.options.llm, { logger: log }),
      tools: this.options.tools,
      toolContext: {
        dataDir: this.options.dataDir,
        workspaceDir: this.options.workspaceDir,
        trace: request.trace ?? null,
        ...(this.options.wrote ? { wrote: this.options.wrote } : {}),
      },
      config: runtime.config,
      systemPrompt: runtime.systemPrompt,
      signal,
      logger: log,
    });
  }

  private record(request: TaskRequestParsed, outcome: TaskOutcome, reason: StopReason | null, log: Logger): void {
    if (outcome.status === 'aborted' && reason === 'shutdown') return;
    const { store } = this.options;
    const final = finalRecord(request, outcome, reason);
    const recorded = final !== null && store.finish(request.task_id, final, outcome.usage);
    // Not recorded: a cancel (or a race with one) set the final status before the run
    // stopped; the tokens the run spent still count.
    if (!recorded) store.recordUsage(request.task_id, outcome.usage);
    this.settled.emit(request.task_id);
    const status = final?.status ?? 'cancelled';
    log.info(
      { event: 'task_finished', status, recorded, iterations: outcome.iterations, usage: outcome.usage },
      `task ${status}`,
    );
  }
}

/** What a run's outcome writes; null for a cancelled run, whose status is already written. */
function finalRecord(request: TaskRequestParsed, outcome: TaskOutcome, reason: StopReason | null): FinalRecord | null {
  switch (outcome.status) {
    case 'done':
      return { status: 'done', output: outcome.output, promotions: outcome.promotions };
    case 'failed':
      return { status: 'failed', error: outcome.error };
    case 'aborted':
      if (reason !== 'timeout') return null;
      return {
        status: 'timeout',
        error: {
          code: 'timeout',
          message: `the task ran longer than its timeout_s (${request.timeout_s} s) and was stopped`,
        },
      };
  }
}
