// A step's task came back done: its result is stored, promoted to the blackboard, and
// the promotions the agent itself asked for are carried out. Invariants: called inside
// the orchestrator's transaction; the result is the task's output, and output text that
// parses as JSON is used as JSON, so templates and conditions can read its fields; the
// step's own `promote` (written by the user in config) is not checked against the
// agent's permissions, but each promotion the agent asked for is checked against that
// agent's blackboard_write, and a denied one is a 'denied' event and part of the step's
// reason, never a silent drop; a promote that cannot be written fails the attempt (the
// reason is returned) before anything of it is stored. Usage is not counted here: the
// LLM proxy metered every call of the task already.
import type { BlackboardStore } from '../blackboard/store.js';
import type { EventLog } from '../events/log.js';
import type { PermissionChecker } from '../permissions/types.js';
import { errorBody } from '../../shared/errors.js';
import type { JsonValue } from '../../shared/wire/blackboard.js';
import type { TaskResult } from '../../shared/wire/task.js';
import type { RunPlan } from './plan.js';
import type { StepState, WorkflowScope } from '../../shared/config/workflows/scope.js';
import type { RunRecord, StepRecord, WorkflowStore } from './store.js';
import { renderKey } from '../../shared/config/workflows/template.js';

export interface ResultDeps {
  store: WorkflowStore;
  blackboard: BlackboardStore;
  permissions: PermissionChecker;
  events: EventLog;
}

/** The task output as a step result: text that is JSON becomes that JSON. */
export function stepResult(output: JsonValue): JsonValue {
  if (typeof output !== 'string') return output;
  try {
    return JSON.parse(output) as JsonValue;
  } catch {
    return output;
  }
}

/** Stores a done step; returns null, or why the attempt failed after all (its promote). */
export function settleDone(
  deps: ResultDeps,
  run: RunRecord,
  plan: RunPlan,
  step: StepRecord,
  result: TaskResult,
  scopeOf: (states: Record<string, StepState>) => WorkflowScope,
): string | null {
  const { store, blackboard, permissions, events } = deps;
  const value = stepResult(result.output);
  const promote = plan.steps.get(step.step_id)?.step.promote;
  /** What was written, for the transition; what was refused, for the step's reason too. */
  const notes: string[] = [];
  const problems: string[] = [];
  if (promote !== undefined) {
    const states = Object.fromEntries(
      store.steps(run.id).map((s) => [s.step_id, { status: s.status, result: s.result, error: s.error }]),
    );
    states[step.step_id] = { status: 'done', result: value, error: null };
    const writer = `workflow:${run.workflow}`;
    let key = promote;
    try {
      key = renderKey(promote, scopeOf(states));
      const written = blackboard.set({ key, value, writer });
      events.record({
        agent: step.agent,
        kind: 'blackboard_write',
        subject: key,
        detail: { version: written.version, writer, step: step.step_id },
        trace: run.id,
      });
      notes.push(`promoted to ${key}`);
    } catch (err) {
      return `could not promote the result to ${key}: ${errorBody(err).message}`;
    }
  }
  const agent = step.agent ?? '';
  for (const promotion of result.promotions ?? []) {
    const decision = permissions.check(agent, 'blackboard_write', promotion.key);
    if (!decision.allowed) {
      events.record({
        agent,
        kind: 'denied',
        subject: promotion.key,
        detail: {
          permission: 'blackboard_write',
          reason: decision.reason,
          source: `workflow ${run.workflow} step ${step.step_id}`,
        },
        trace: run.id,
      });
      problems.push(`promotion of ${promotion.key} denied: ${decision.reason}`);
      continue;
    }
    try {
      const written = blackboard.set({ key: promotion.key, value: promotion.value, writer: agent });
      events.record({
        agent,
        kind: 'blackboard_write',
        subject: promotion.key,
        detail: { version: written.version, step: step.step_id },
        trace: run.id,
      });
      notes.push(`agent promoted ${promotion.key}`);
    } catch (err) {
      problems.push(`promotion of ${promotion.key} failed: ${errorBody(err).message}`);
    }
  }
  const detail = [...notes, ...problems];
  store.updateStep(run.id, step.step_id, {
    status: 'done',
    result: value,
    error: null,
    reason: problems.length > 0 ? problems.join('; ') : null,
    finished_at: new Date().toISOString(),
  });
  store.record({
    run,
    step: step.step_id,
    status: 'done',
    attempt: step.attempt,
    detail: detail.length > 0 ? detail.join('; ') : null,
    agent: step.agent,
  });
  return null;
}
