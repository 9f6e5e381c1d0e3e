// What a run does next, as pure functions of its definition and its steps' states (no
// database, no clock but the one passed in), so the DAG's rules are tested directly.
// Rules: a step waits until each dependency is settled; a dependency that was skipped
// skips the step ("dependency <id> was skipped") unless run_if_dependency_skipped; a
// false condition skips it ("condition false: <text>"); otherwise it is dispatched. A
// failed dependency counts as settled (result null) under on_failure continue; under
// fallback:<id> it counts as whatever its fallback became, so dependents wait for the
// fallback. A fallback step is dormant until its owner failed for good, and is skipped
// ("not needed") once its owner is done or skipped. Skips cascade within one call.
import type { OnFailure, Retry, WorkflowFile, WorkflowStep } from '../../shared/config/workflow.js';
import { FINAL_STEP_STATUSES, type StepStatus } from '../../shared/wire/workflow.js';
import { parseCondition, type Condition } from '../../shared/config/workflows/condition.js';
import type { StepState, WorkflowScope } from '../../shared/config/workflows/scope.js';

/** No single backoff waits longer than this, whatever retry.backoff_s and the attempt say. */
export const MAX_RETRY_DELAY_MS = 24 * 3600 * 1000;

export interface PlanStep {
  step: WorkflowStep;
  condition: Condition | null;
  /** The step this one is the fallback of (another step's on_failure: fallback:<this id>). */
  fallbackFor: string | null;
}

export interface RunPlan {
  name: string;
  steps: Map<string, PlanStep>;
  /** Step ids in the file's order. */
  order: string[];
}

export type Move = { kind: 'skip'; step: string; reason: string } | { kind: 'dispatch'; step: string };

export function fallbackOf(onFailure: OnFailure): string | null {
  return onFailure.startsWith('fallback:') ? onFailure.slice('fallback:'.length) : null;
}

/** The plan of a definition the loader already checked (a run's stored snapshot). */
export function planOf(definition: WorkflowFile): RunPlan {
  const owners = new Map<string, string>();
  for (const step of definition.steps) {
    const fallback = fallbackOf(step.on_failure);
    if (fallback !== null && !owners.has(fallback)) owners.set(fallback, step.id);
  }
  const steps = new Map<string, PlanStep>();
  for (const step of definition.steps) {
    steps.set(step.id, {
      step,
      condition: step.condition === undefined ? null : parseCondition(step.condition),
      fallbackFor: owners.get(step.id) ?? null,
    });
  }
  return { name: definition.name, steps, order: definition.steps.map((step) => step.id) };
}

export function isFinalStep(status: StepStatus): boolean {
  return FINAL_STEP_STATUSES.includes(status);
}

type Settled = 'wait' | 'ok' | 'skipped';

/** How a dependency looks to the steps that depend on it. */
function settledAs(plan: RunPlan, states: Record<string, StepState>, id: string, seen: Set<string>): Settled {
  const state = states[id];
  if (state === undefined || seen.has(id)) return 'wait';
  switch (state.status) {
    case 'done':
      return 'ok';
    case 'skipped':
      return 'skipped';
    case 'failed': {
      const onFailure = plan.steps.get(id)?.step.on_failure ?? 'abort';
      if (onFailure === 'continue') return 'ok';
      const fallback = fallbackOf(onFailure);
      return fallback === null ? 'wait' : settledAs(plan, states, fallback, new Set([...seen, id]));
    }
    default:
      return 'wait';
  }
}

/** What a pending step does now, or null while it waits. */
function movePending(plan: RunPlan, states: Record<string, StepState>, id: string, scope: WorkflowScope): Move | null {
  const planned = plan.steps.get(id);
  if (!planned) return null;
  if (planned.fallbackFor !== null) {
    const owner = states[planned.fallbackFor]?.status;
    if (owner === 'done' || owner === 'skipped')
      return {
        kind: 'skip',
        step: id,
        reason: `not needed: ${planned.fallbackFor} was ${owner === 'done' ? 'done' : 'skipped'}`,
      };
    if (owner !== 'failed') return null;
  }
  let skippedDependency: string | null = null;
  for (const dependency of planned.step.depends_on) {
    const settled = settledAs(plan, states, dependency, new Set([id]));
    if (settled === 'wait') return null;
    if (settled === 'skipped' && skippedDependency === null) skippedDependency = dependency;
  }
  if (skippedDependency !== null && !planned.step.run_if_dependency_skipped) {
    return { kind: 'skip', step: id, reason: `dependency ${skippedDependency} was skipped` };
  }
  if (planned.condition && !planned.condition.evaluate(scope)) {
    return { kind: 'skip', step: id, reason: `condition false: ${planned.condition.text}` };
  }
  return { kind: 'dispatch', step: id };
}

/** Every move the run can make now, skips cascading: a skip may settle later steps. */
export function nextMoves(
  plan: RunPlan,
  start: Record<string, StepState>,
  scopeOf: (states: Record<string, StepState>) => WorkflowScope,
): Move[] {
  const states = { ...start };
  const moves: Move[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    const scope = scopeOf(states);
    for (const id of plan.order) {
      if (states[id]?.status !== 'pending') continue;
      const move = movePending(plan, states, id, scope);
      if (move === null) continue;
      moves.push(move);
      const state = states[id];
      if (state === undefined) continue;
      states[id] = { ...state, status: move.kind === 'skip' ? 'skipped' : 'queued' };
      if (move.kind === 'skip') changed = true;
    }
  }
  return moves;
}

export function allStepsFinal(states: Record<string, StepState>): boolean {
  return Object.values(states).every((state) => isFinalStep(state.status));
}

/** The wait before attempt `attempt + 1`: backoff_s × 2^(attempt-1), ±25% jitter, capped. */
export function retryDelayMs(retry: Retry, attempt: number, random: () => number = Math.random): number {
  const base = retry.backoff_s * 1000 * 2 ** Math.max(attempt - 1, 0);
  return Math.min(base * (0.75 + random() * 0.5), MAX_RETRY_DELAY_MS);
}

export type AfterFailedAttempt =
  | { kind: 'retry'; delayMs: number }
  | { kind: 'abort' }
  | { kind: 'skip' }
  | { kind: 'continue' }
  | { kind: 'fallback'; step: string };

/** After attempt `attempt` (1-based) failed: another attempt, or the step's on_failure. */
export function afterFailedAttempt(
  step: WorkflowStep,
  attempt: number,
  random: () => number = Math.random,
): AfterFailedAttempt {
  if (attempt <= step.retry.max) return { kind: 'retry', delayMs: retryDelayMs(step.retry, attempt, random) };
  const fallback = fallbackOf(step.on_failure);
  if (fallback !== null) return { kind: 'fallback', step: fallback };
  if (step.on_failure === 'skip' || step.on_failure === 'continue') return { kind: step.on_failure };
  return { kind: 'abort' };
}
