// A workflow scope for unit tests: plain values, a blackboard read from a record.
import type { JsonValue } from '../../../src/shared/wire/blackboard.js';
import type { StepState, WorkflowScope } from '../../../src/shared/config/workflows/scope.js';

export function makeScope(
  options: {
    payload?: JsonValue;
    steps?: Record<string, Partial<StepState>>;
    blackboard?: Record<string, JsonValue>;
  } = {},
): WorkflowScope {
  const steps = Object.fromEntries(
    Object.entries(options.steps ?? {}).map(([id, state]) => [
      id,
      { status: 'done' as const, result: null, error: null, ...state },
    ]),
  );
  const board = options.blackboard ?? {};
  return {
    trigger: { payload: options.payload ?? null, source: 'topic:new_prospect' },
    steps,
    blackboard: (key) => (Object.hasOwn(board, key) ? board[key] : undefined),
    run: { id: 'run_1' },
    workflow: { name: 'prospect_pipeline' },
  };
}
