// The workflow engine: starts runs (by hand, on a trigger topic, from a webhook), walks
// each run's DAG (plan.ts decides), dispatches ready steps as task items on their
// agents' lanes, stores results, promotes them, retries, applies on_failure, enforces
// step and run timeouts, and resumes every run at mesh start.
// Invariants: every change is written to mesh.db, with its transition row and event,
// in one transaction before anything is acted on: lane kicks, POST /cancel, timers and
// the on_complete publish happen only after the commit (effects.ts), so a crash at any
// point leaves a state the next start resumes from; a task result, a timeout or a
// failed hand-over counts only for the attempt it belongs to (a step's attempt and
// status are checked first), so a late answer can never settle a newer attempt or a
// finished run; a step is done at most once: its task id is the agent's idempotency key.
import type { Db } from '../db.js';
import type { EventLog } from '../events/log.js';
import type { LaneStore, LaneItem } from '../lanes/store.js';
import type { BlackboardStore } from '../blackboard/store.js';
import type { PermissionChecker } from '../permissions/types.js';
import type { Logger } from '../../shared/logging.js';
import { LegionError, errorBody } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import type { JsonValue } from '../../shared/wire/blackboard.js';
import type { RunStatus, RunView } from '../../shared/wire/workflow.js';
import type { TaskRequestParsed, TaskResult } from '../../shared/wire/task.js';
import type { RunDelivery } from '../triggers/webhooks/store.js';
import type { WorkflowDefinitions } from './definitions.js';
import { workflowTriggerLabel, type AgentRoles, type LoadedWorkflow } from '../../shared/config/workflows/load.js';
import { afterFailedAttempt, allStepsFinal, isFinalStep, nextMoves, planOf, type RunPlan } from './plan.js';
import type { StepState, WorkflowScope } from '../../shared/config/workflows/scope.js';
import type { RunRecord, StepRecord, WorkflowStore } from './store.js';
import { Effects } from './effects.js';
import { dispatchStep, type DispatchDeps } from './dispatch.js';
import { settleDone } from './results.js';
import { Timers } from './timers.js';
import { TaskItemBodySchema, type TaskItemBody, type TaskSteps } from './task-delivery.js';

export interface OrchestratorOptions {
  db: Db;
  store: WorkflowStore;
  definitions: WorkflowDefinitions;
  lanes: LaneStore;
  blackboard: BlackboardStore;
  permissions: PermissionChecker;
  events: EventLog;
  logger: Logger;
  /** The configured agents and their roles. */
  agents: () => AgentRoles;
  /** Publishes on_complete (PubSub.publish). */
  publish: (publisher: string, topic: string, payload: JsonValue, trace: string) => void;
  /** Wakes an agent's lane after a step was queued on it. */
  onEnqueued: (agent: string) => void;
  /** POST /cancel/<task_id> to the agent; may reject (the agent is down). */
  cancelTask: (agent: string, taskId: string) => Promise<unknown>;
  random?: () => number;
}

/** Publish and webhook payloads are parsed JSON (or form fields, or text), so JSON values. */
const asJson = (payload: unknown): JsonValue => payload as JsonValue;

const isActive = (step: StepRecord): boolean => step.status === 'queued' || step.status === 'running';

export class Orchestrator implements TaskSteps {
  private readonly options: OrchestratorOptions;
  private readonly timers = new Timers();
  private readonly plans = new Map<string, RunPlan>();

  constructor(options: OrchestratorOptions) {
    this.options = options;
  }

  // ---- starting runs ----

  /** A run started by a person: the files are read again first; an invalid edit is a 400
   *  naming its problems, an unknown workflow a 404 naming the known ones. */
  startManual(name: string, input: JsonValue): RunView {
    const workflows = this.options.definitions.reload();
    const workflow = workflows.get(name);
    if (!workflow) throw new LegionError('not_found', this.unknownWorkflow(name) ?? `no workflow named "${name}"`);
    const run = this.transact((fx) => this.createRun(workflow, input, 'manual', fx));
    return this.view(run.id);
  }

  /** A publish on `topic` (by anyone): every workflow triggered by it starts a run. Called
   *  inside the publish's transaction, so an accepted publish always has its runs. */
  onPublished(topic: string, payload: unknown): void {
    const trigger = `topic:${topic}`;
    for (const workflow of this.options.definitions.currentOrPrevious().values()) {
      if (workflowTriggerLabel(workflow.definition.trigger) === trigger)
        this.startFromTrigger(workflow, asJson(payload), trigger);
    }
  }

  /** A webhook call, inside its transaction: the run of the hook's target workflow (`run`;
   *  throws when it cannot start, so the call is refused) and the runs of the workflows
   *  whose trigger names the hook (`also`). */
  onWebhook(hook: string, target: string | null, payload: unknown): { run: string | null; also: string[] } {
    const workflows = this.options.definitions.currentOrPrevious();
    const trigger = `webhook:${hook}`;
    let run: string | null = null;
    if (target !== null) {
      const workflow = workflows.get(target);
      if (!workflow)
        throw new LegionError(
          'workflow_unavailable',
          `webhook ${hook} starts workflow ${target}, which is not in config/workflows now`,
        );
      run = this.transact((fx) => this.createRun(workflow, asJson(payload), trigger, fx)).id;
    }
    const also: string[] = [];
    for (const workflow of workflows.values()) {
      if (workflow.name === target || workflowTriggerLabel(workflow.definition.trigger) !== trigger) continue;
      const id = this.startFromTrigger(workflow, asJson(payload), trigger);
      if (id !== null) also.push(id);
    }
    return { run, also };
  }

  /** A run started by a webhook call, in a delivery's terms (`legion webhook test`). */
  runDelivery(runId: string): RunDelivery | null {
    const run = this.options.store.run(runId);
    if (!run) return null;
    const status = run.status === 'running' ? 'inflight' : run.status === 'done' ? 'done' : 'failed';
    const reply = run.status === 'done' ? `workflow ${run.workflow} run ${run.id} done` : null;
    return {
      status,
      attempts: 1,
      reply,
      error: status === 'failed' ? (run.error ?? `the run ended ${run.status}`) : null,
    };
  }

  /** Why `name` is no workflow (naming the known ones), or null when it is one. */
  unknownWorkflow(name: string): string | null {
    const workflows = this.options.definitions.currentOrPrevious();
    if (workflows.has(name)) return null;
    return `no workflow named "${name}" (workflows: ${[...workflows.keys()].sort().join(', ') || 'none; add config/workflows/<name>.yaml'})`;
  }

  private startFromTrigger(workflow: LoadedWorkflow, payload: JsonValue, trigger: string): string | null {
    try {
      return this.transact((fx) => this.createRun(workflow, payload, trigger, fx)).id;
    } catch (err) {
      this.options.events.record({
        agent: null,
        kind: 'workflow_start_failed',
        subject: workflow.name,
        detail: { trigger, error: errorBody(err).message },
      });
      this.options.logger.error(
        { event: 'workflow_start_failed', workflow: workflow.name, trigger, err },
        'a triggered workflow run could not start',
      );
      return null;
    }
  }

  private createRun(workflow: LoadedWorkflow, input: JsonValue, trigger: string, fx: Effects): RunRecord {
    const created = new Date();
    const deadline = new Date(created.getTime() + workflow.definition.timeout * 1000);
    const run = this.options.store.createRun({
      id: newId('run'),
      workflow: workflow.name,
      trigger,
      input,
      definition: workflow.definition,
      created_at: created.toISOString(),
      deadline: deadline.toISOString(),
    });
    this.armDeadline(run, fx);
    this.advance(run.id, fx);
    return run;
  }

  // ---- reading ----

  view(runId: string): RunView {
    const view = this.options.store.view(runId);
    if (!view) throw new LegionError('not_found', `no workflow run "${runId}" (recent runs: \`legion workflow runs\`)`);
    return view;
  }

  // ---- cancel, resume, stop ----

  /** Cancels a running run: what runs is cancelled on its agent, the rest never starts. */
  cancel(runId: string): RunView {
    const current = this.view(runId);
    if (current.status !== 'running')
      throw new LegionError('run_finished', `workflow run ${runId} already finished: its status is ${current.status}`);
    this.transact((fx) => {
      const run = this.options.store.run(runId);
      if (run?.status === 'running') this.finishRun(run, 'cancelled', 'cancelled by the operator', fx);
    });
    return this.view(runId);
  }

  /** At mesh start, after the dispatcher re-queued in-flight items: every running run
   *  picks up where it stopped, from its rows. */
  resume(): void {
    const { store, lanes, logger } = this.options;
    const runs = store.runningRuns();
    for (const stored of runs) {
      this.transact((fx) => {
        const run = store.run(stored.id);
        if (run?.status !== 'running') return;
        if (Date.parse(run.deadline) <= Date.now()) {
          this.finishRun(run, 'timeout', this.deadlineError(run), fx);
          return;
        }
        this.armDeadline(run, fx);
        for (const step of store.steps(run.id)) {
          if (step.status === 'retrying') this.armRetry(run.id, step, fx);
          if (step.status === 'running') this.armStepTimeout(run, step, fx);
          if (!isActive(step)) continue;
          const item = step.lane_item === null ? null : lanes.get(step.lane_item);
          if (item === null || item.status === 'done' || item.status === 'failed') {
            this.attemptFailed(
              run,
              step.step_id,
              step.attempt,
              `the hand-over of task ${step.task_id ?? '(none)'} was lost (lane item ${item?.status ?? 'missing'}: ${item?.last_error ?? 'no reason recorded'})`,
              fx,
            );
          }
        }
        this.advance(run.id, fx);
      });
    }
    if (runs.length > 0) logger.info({ event: 'workflows_resumed', runs: runs.length }, 'workflow runs resumed');
    for (const run of store.unpublishedRuns()) this.publishCompletion(run);
  }

  stop(): void {
    this.timers.stop();
  }

  // ---- the task delivery's side (TaskSteps) ----

  wanted(body: TaskItemBody): TaskRequestParsed | null {
    return this.currentAttempt(body) ? body.request : null;
  }

  handedOver(body: TaskItemBody): void {
    this.transact((fx) => {
      const current = this.currentAttempt(body);
      if (current?.step.status !== 'queued') return;
      const { run, step } = current;
      const now = new Date().toISOString();
      this.options.store.updateStep(run.id, step.step_id, {
        status: 'running',
        attempt_started_at: now,
        started_at: step.started_at ?? now,
      });
      this.options.store.record({
        run,
        step: step.step_id,
        status: 'running',
        attempt: step.attempt,
        detail: `task ${step.task_id ?? ''} on ${step.agent ?? ''}`,
        agent: step.agent,
      });
      this.armStepTimeout(run, { ...step, attempt_started_at: now }, fx);
    });
  }

  finished(body: TaskItemBody, result: TaskResult): void {
    this.transact((fx) => {
      const current = this.currentAttempt(body);
      if (!current) return;
      const { run, step } = current;
      fx.clear(this.timeoutKey(run.id, step.step_id));
      if (result.status === 'done') {
        const failure = settleDone(this.resultDeps(), run, this.planFor(run), step, result, (states) =>
          this.scopeOf(run, states),
        );
        if (failure !== null) this.attemptFailed(run, step.step_id, step.attempt, failure, fx);
      } else {
        this.attemptFailed(run, step.step_id, step.attempt, describeFailure(result), fx);
      }
      this.advance(run.id, fx);
    });
  }

  /** The dispatcher gave up handing a task item over: a failed attempt. */
  handOverFailed(item: LaneItem, reason: string): void {
    const parsed = TaskItemBodySchema.safeParse(item.body);
    if (!parsed.success) return;
    const body = parsed.data;
    this.transact((fx) => {
      const current = this.currentAttempt(body);
      if (!current) return;
      this.attemptFailed(
        current.run,
        current.step.step_id,
        current.step.attempt,
        `could not hand task ${body.request.task_id} to ${item.agent}: ${reason}`,
        fx,
      );
      this.advance(current.run.id, fx);
    });
  }

  private currentAttempt(body: TaskItemBody): { run: RunRecord; step: StepRecord } | null {
    const run = this.options.store.run(body.run_id);
    const step = this.options.store.step(body.run_id, body.step_id);
    if (
      run?.status !== 'running' ||
      !step ||
      !isActive(step) ||
      step.attempt !== body.attempt ||
      step.task_id !== body.request.task_id
    )
      return null;
    return { run, step };
  }

  // ---- the engine ----

  /** Runs `work` in one transaction, then its effects. Inside someone else's transaction
   *  (a publish, a webhook call) the effects wait until that one has committed. */
  private transact<T>(work: (fx: Effects) => T): T {
    const fx = new Effects();
    const result = this.options.db.transaction(() => work(fx))();
    const apply = () =>
      fx.apply({
        timers: this.timers,
        kick: this.options.onEnqueued,
        cancelTask: (agent, taskId) =>
          this.options
            .cancelTask(agent, taskId)
            .catch((err: unknown) =>
              this.options.logger.warn(
                { event: 'task_cancel_failed', agent, task: taskId, err },
                'could not cancel a task on its agent; it is cancelled when its lane item comes up',
              ),
            ),
        publish: (runId) => {
          const run = this.options.store.run(runId);
          if (run) this.publishCompletion(run);
        },
      });
    if (this.options.db.inTransaction) setImmediate(apply);
    else apply();
    return result;
  }

  private planFor(run: RunRecord): RunPlan {
    let plan = this.plans.get(run.id);
    if (!plan) {
      plan = planOf(run.definition);
      this.plans.set(run.id, plan);
    }
    return plan;
  }

  private statesOf(runId: string): Record<string, StepState> {
    return Object.fromEntries(
      this.options.store
        .steps(runId)
        .map((step) => [step.step_id, { status: step.status, result: step.result, error: step.error }]),
    );
  }

  private scopeOf(run: RunRecord, states: Record<string, StepState>): WorkflowScope {
    return {
      trigger: { payload: run.input, source: run.trigger },
      steps: states,
      blackboard: (key) => this.options.blackboard.get(key)?.value,
      run: { id: run.id },
      workflow: { name: run.workflow },
    };
  }

  private dispatchDeps(): DispatchDeps {
    const { store, lanes, agents } = this.options;
    return { store, lanes, agents };
  }

  private resultDeps(): Parameters<typeof settleDone>[0] {
    const { store, blackboard, permissions, events } = this.options;
    return { store, blackboard, permissions, events };
  }

  /** Applies every move the run can make now, until none is left; finishes the run when
   *  every step is final. */
  private advance(runId: string, fx: Effects): void {
    const { store } = this.options;
    for (;;) {
      const run = store.run(runId);
      if (run?.status !== 'running') return;
      const plan = this.planFor(run);
      const states = this.statesOf(runId);
      const moves = nextMoves(plan, states, (s) => this.scopeOf(run, s));
      if (moves.length === 0) {
        if (allStepsFinal(states)) this.finishRun(run, 'done', null, fx);
        return;
      }
      for (const move of moves) {
        if (store.run(runId)?.status !== 'running') return;
        if (move.kind === 'skip') {
          store.updateStep(runId, move.step, {
            status: 'skipped',
            reason: move.reason,
            finished_at: new Date().toISOString(),
          });
          store.record({ run, step: move.step, status: 'skipped', attempt: 0, detail: move.reason, agent: null });
        } else {
          this.dispatch(run, plan, move.step, 1, fx);
        }
      }
    }
  }

  private dispatch(run: RunRecord, plan: RunPlan, stepId: string, attempt: number, fx: Effects): void {
    const outcome = dispatchStep(
      this.dispatchDeps(),
      run,
      plan,
      stepId,
      attempt,
      this.scopeOf(run, this.statesOf(run.id)),
    );
    if (outcome.ok) fx.kick(outcome.agent);
    else this.attemptFailed(run, stepId, attempt, outcome.error, fx);
  }

  /** Attempt `attempt` of a step failed: a retry after its backoff, or its on_failure. */
  private attemptFailed(run: RunRecord, stepId: string, attempt: number, error: string, fx: Effects): void {
    const { store } = this.options;
    const step = store.step(run.id, stepId);
    const planned = this.planFor(run).steps.get(stepId);
    if (!step || !planned || isFinalStep(step.status) || step.attempt !== attempt) return;
    fx.clear(this.timeoutKey(run.id, stepId));
    const now = new Date();
    const next = afterFailedAttempt(planned.step, attempt, this.options.random);
    const tried = `${attempt} attempt${attempt === 1 ? '' : 's'}`;
    const transition = (status: string, detail: string) =>
      store.record({ run, step: stepId, status, attempt, detail, agent: step.agent });
    switch (next.kind) {
      case 'retry': {
        const notBefore = new Date(now.getTime() + next.delayMs).toISOString();
        store.updateStep(run.id, stepId, { status: 'retrying', error, not_before: notBefore });
        transition('retried', `attempt ${attempt} failed: ${error}; attempt ${attempt + 1} at ${notBefore}`);
        this.armRetry(run.id, { ...step, status: 'retrying', not_before: notBefore }, fx);
        return;
      }
      case 'skip': {
        const reason = `failed after ${tried}, skipped (on_failure: skip): ${error}`;
        store.updateStep(run.id, stepId, { status: 'skipped', error, reason, finished_at: now.toISOString() });
        transition('skipped', reason);
        return;
      }
      case 'continue':
      case 'fallback': {
        const reason =
          next.kind === 'continue'
            ? `failed after ${tried}; its dependents run with a null result (on_failure: continue)`
            : `failed after ${tried}; fallback ${next.step} runs in its place`;
        store.updateStep(run.id, stepId, { status: 'failed', error, reason, finished_at: now.toISOString() });
        transition('failed', `${reason}: ${error}`);
        return;
      }
      case 'abort': {
        const reason = `failed after ${tried} (on_failure: abort)`;
        store.updateStep(run.id, stepId, { status: 'failed', error, reason, finished_at: now.toISOString() });
        transition('failed', `${reason}: ${error}`);
        this.finishRun(run, 'failed', `step ${stepId} failed: ${error}`, fx);
      }
    }
  }

  /** Ends a run: steps not yet final are cancelled (on their agents too), its timers
   *  cleared; a done run's on_complete is published after the commit. */
  private finishRun(run: RunRecord, status: Exclude<RunStatus, 'running'>, error: string | null, fx: Effects): void {
    const { store, lanes } = this.options;
    const now = new Date().toISOString();
    for (const step of store.steps(run.id)) {
      if (isFinalStep(step.status)) continue;
      const item = step.lane_item === null ? null : lanes.get(step.lane_item);
      if (isActive(step) && item?.status === 'queued') lanes.fail(item.id, `workflow run ${run.id} ended (${status})`);
      if (isActive(step) && item?.status === 'inflight' && step.agent !== null && step.task_id !== null)
        fx.cancelTask(step.agent, step.task_id);
      const reason = `the run ended (${status}) before this step finished`;
      store.updateStep(run.id, step.step_id, { status: 'cancelled', reason, finished_at: now });
      store.record({
        run,
        step: step.step_id,
        status: 'cancelled',
        attempt: step.attempt,
        detail: reason,
        agent: step.agent,
      });
    }
    store.updateRun(run.id, { status, error, finished_at: now });
    store.record({ run, step: null, status, attempt: 0, detail: error, agent: null });
    fx.clearRun(run.id);
    this.plans.delete(run.id);
    if (status === 'done' && run.definition.on_complete) fx.publish(run.id);
  }

  private publishCompletion(run: RunRecord): void {
    const topic = run.definition.on_complete?.publish;
    if (topic === undefined || run.published_at !== null) return;
    const results = Object.fromEntries(this.options.store.steps(run.id).map((step) => [step.step_id, step.result]));
    try {
      this.options.publish(
        `workflow:${run.workflow}`,
        topic,
        { run_id: run.id, workflow: run.workflow, status: run.status, results },
        run.id,
      );
      this.options.store.updateRun(run.id, { published_at: new Date().toISOString() });
    } catch (err) {
      this.options.logger.error(
        { event: 'workflow_publish_failed', run: run.id, topic, err },
        'the on_complete publish of a workflow run failed; it is tried again at the next start',
      );
    }
  }

  // ---- timers ----

  private timeoutKey(runId: string, stepId: string): string {
    return `${runId}:timeout:${stepId}`;
  }

  private deadlineError(run: RunRecord): string {
    return `the run took longer than its timeout (${run.definition.timeout} s)`;
  }

  private armDeadline(run: RunRecord, fx: Effects): void {
    fx.arm(`${run.id}:deadline`, Date.parse(run.deadline), () =>
      this.transact((later) => {
        const current = this.options.store.run(run.id);
        if (current?.status === 'running') this.finishRun(current, 'timeout', this.deadlineError(current), later);
      }),
    );
  }

  private armRetry(runId: string, step: StepRecord, fx: Effects): void {
    const at = step.not_before === null ? Date.now() : Date.parse(step.not_before);
    fx.arm(`${runId}:retry:${step.step_id}`, at, () =>
      this.transact((later) => {
        const run = this.options.store.run(runId);
        const current = this.options.store.step(runId, step.step_id);
        if (run?.status !== 'running' || current?.status !== 'retrying' || current.attempt !== step.attempt) return;
        this.dispatch(run, this.planFor(run), step.step_id, step.attempt + 1, later);
        this.advance(runId, later);
      }),
    );
  }

  private armStepTimeout(run: RunRecord, step: StepRecord, fx: Effects): void {
    const timeout = this.planFor(run).steps.get(step.step_id)?.step.timeout;
    if (timeout === undefined || step.attempt_started_at === null) return;
    fx.arm(this.timeoutKey(run.id, step.step_id), Date.parse(step.attempt_started_at) + timeout * 1000, () =>
      this.transact((later) => {
        const current = this.options.store.step(run.id, step.step_id);
        const live = this.options.store.run(run.id);
        if (live?.status !== 'running' || current?.status !== 'running' || current.attempt !== step.attempt) return;
        if (current.agent !== null && current.task_id !== null) later.cancelTask(current.agent, current.task_id);
        this.attemptFailed(live, step.step_id, step.attempt, `timed out after ${timeout} s`, later);
        this.advance(run.id, later);
      }),
    );
  }
}

/** A task that did not succeed, in words: its status and the agent's error. */
function describeFailure(result: TaskResult): string {
  const error = result.error ? `${result.error.code}: ${result.error.message}` : 'no error reported';
  return `task ${result.task_id} ${result.status} (${error})`;
}
