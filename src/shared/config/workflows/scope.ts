// What a workflow's templates and conditions can read while a run goes on, and the one
// place that says which paths exist and what they resolve to. Invariants: a path is a
// list of segments whose first is a root (steps, trigger, blackboard, run, workflow);
// scopePathProblem() accepts exactly the paths resolvePath() can answer; resolving
// never throws, and a path into a missing value (unknown step, absent key, index out of
// range, a field of a number) is null.
import { blackboardKeyProblem, type JsonValue } from '../../wire/blackboard.js';
import type { StepStatus } from '../../wire/workflow.js';

export type { JsonValue };

export interface StepState {
  status: StepStatus;
  /** The task output (JSON when its text parses as JSON); null until the step is done. */
  result: JsonValue;
  error: string | null;
}

export interface WorkflowScope {
  /** source: "manual", "topic:<topic>" or "webhook:<hook>". */
  trigger: { payload: JsonValue; source: string };
  /** Only steps that exist in the run. */
  steps: Record<string, StepState>;
  /** The current value of a blackboard key; undefined when it is not set. */
  blackboard: (key: string) => JsonValue | undefined;
  run: { id: string };
  workflow: { name: string };
}

export const SCOPE_ROOTS = ['steps', 'trigger', 'blackboard', 'run', 'workflow'] as const;
export type ScopeRoot = (typeof SCOPE_ROOTS)[number];

export function isScopeRoot(name: string): name is ScopeRoot {
  return (SCOPE_ROOTS as readonly string[]).includes(name);
}

/** Renders a path for messages: steps.research.result.score */
export function formatScopePath(path: readonly string[]): string {
  return path.join('.');
}

/** Why `path` names nothing a run can have, or null; callers say which path it was. Step
 *  ids are not checked here (the loader knows the steps); everything else is. */
export function scopePathProblem(path: readonly string[]): string | null {
  const [root, first, second] = path;
  if (root === undefined || !isScopeRoot(root)) {
    return `unknown name "${root ?? ''}" (a path starts with ${SCOPE_ROOTS.join(', ')})`;
  }
  switch (root) {
    case 'steps':
      if (first === undefined) return 'expected steps.<id>.result, steps.<id>.status or steps.<id>.error';
      if (second === 'result') return null;
      if ((second === 'status' || second === 'error') && path.length === 3) return null;
      return `expected steps.${first}.result (and fields under it), steps.${first}.status or steps.${first}.error`;
    case 'trigger':
      if (first === 'payload') return null;
      if (first === 'source' && path.length === 2) return null;
      return `expected trigger.payload (and fields under it) or trigger.source`;
    case 'run':
      return first === 'id' && path.length === 2 ? null : 'expected run.id';
    case 'workflow':
      return first === 'name' && path.length === 2 ? null : 'expected workflow.name';
    case 'blackboard': {
      if (first === undefined) return 'expected blackboard.<key>';
      const problem = blackboardKeyProblem(first);
      return problem ? `invalid blackboard key ${JSON.stringify(first)}: ${problem}` : null;
    }
  }
}

const INDEX = /^(0|[1-9][0-9]*)$/;

/** One step into a JSON value: an object's own key or an array's index; null otherwise. */
function child(value: JsonValue | undefined, segment: string): JsonValue {
  if (Array.isArray(value)) {
    return INDEX.test(segment) ? (value[Number(segment)] ?? null) : null;
  }
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, segment)) {
    return value[segment] ?? null;
  }
  return null;
}

/** The value `segments` lead to inside a JSON value; null when anything on the way is missing. */
export function descend(value: JsonValue | undefined, segments: readonly string[]): JsonValue {
  let current: JsonValue = value ?? null;
  for (const segment of segments) current = child(current, segment);
  return current;
}

/** The value at `path` (a path scopePathProblem accepts); null when anything on the way
 *  is missing. blackboard paths are [blackboard, key, ...fields of its value]. */
export function resolvePath(scope: WorkflowScope, path: readonly string[]): JsonValue {
  const [root, first, second] = path;
  if (first === undefined) return null;
  switch (root) {
    case 'steps': {
      const state = Object.hasOwn(scope.steps, first) ? scope.steps[first] : undefined;
      if (state === undefined) return null;
      if (second === 'status') return state.status;
      if (second === 'error') return state.error;
      return second === 'result' ? descend(state.result, path.slice(3)) : null;
    }
    case 'trigger':
      if (first === 'source') return scope.trigger.source;
      return first === 'payload' ? descend(scope.trigger.payload, path.slice(2)) : null;
    case 'blackboard':
      return descend(scope.blackboard(first), path.slice(2));
    case 'run':
      return first === 'id' ? scope.run.id : null;
    case 'workflow':
      return first === 'name' ? scope.workflow.name : null;
    default:
      return null;
  }
}
