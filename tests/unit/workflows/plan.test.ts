// The orchestrator's decisions as pure functions: which steps a run dispatches or skips
// now (with the reason), how skips cascade, how on_failure settles a failed step for its
// dependents, fallbacks, and the retry backoff.
import { describe, expect, it } from 'vitest';
import { WorkflowFileSchema, type WorkflowFile } from '../../../src/shared/config/workflow.js';
import {
  afterFailedAttempt,
  nextMoves,
  planOf,
  retryDelayMs,
  MAX_RETRY_DELAY_MS,
} from '../../../src/mesh/workflows/plan.js';
import type { StepState, WorkflowScope } from '../../../src/shared/config/workflows/scope.js';
import type { StepStatus } from '../../../src/shared/wire/workflow.js';

function workflow(steps: unknown[]): WorkflowFile {
  return WorkflowFileSchema.parse({ name: 'w', steps });
}

function states(entries: Record<string, StepStatus | [StepStatus, unknown]>): Record<string, StepState> {
  return Object.fromEntries(
    Object.entries(entries).map(([id, entry]) => {
      const [status, result] = Array.isArray(entry) ? entry : [entry, null];
      return [id, { status, result: result as StepState['result'], error: null }];
    }),
  );
}

const scopeOf = (steps: Record<string, StepState>): WorkflowScope => ({
  trigger: { payload: null, source: 'manual' },
  steps,
  blackboard: () => undefined,
  run: { id: 'run_1' },
  workflow: { name: 'w' },
});

const step = (id: string, more: Record<string, unknown> = {}) => ({ id, agent: 'a', task_type: 't', ...more });

describe('nextMoves', () => {
  it('dispatches every step whose dependencies are done, at once', () => {
    const plan = planOf(
      workflow([
        step('a'),
        step('b', { depends_on: ['a'] }),
        step('c', { depends_on: ['a'] }),
        step('d', { depends_on: ['b', 'c'] }),
      ]),
    );
    expect(nextMoves(plan, states({ a: 'pending', b: 'pending', c: 'pending', d: 'pending' }), scopeOf)).toEqual([
      { kind: 'dispatch', step: 'a' },
    ]);
    expect(nextMoves(plan, states({ a: 'done', b: 'pending', c: 'pending', d: 'pending' }), scopeOf)).toEqual([
      { kind: 'dispatch', step: 'b' },
      { kind: 'dispatch', step: 'c' },
    ]);
    expect(nextMoves(plan, states({ a: 'done', b: 'done', c: 'running', d: 'pending' }), scopeOf)).toEqual([]);
  });

  it('skips a step whose condition is false, and cascades the skip to its dependents unless they opt out', () => {
    const plan = planOf(
      workflow([
        step('score'),
        step('qualify', { depends_on: ['score'], condition: 'steps.score.result.score >= 5' }),
        step('notify', { depends_on: ['qualify'] }),
        step('report', { depends_on: ['notify'], run_if_dependency_skipped: true }),
      ]),
    );
    expect(
      nextMoves(
        plan,
        states({ score: ['done', { score: 3 }], qualify: 'pending', notify: 'pending', report: 'pending' }),
        scopeOf,
      ),
    ).toEqual([
      { kind: 'skip', step: 'qualify', reason: 'condition false: steps.score.result.score >= 5' },
      { kind: 'skip', step: 'notify', reason: 'dependency qualify was skipped' },
      { kind: 'dispatch', step: 'report' },
    ]);
    expect(
      nextMoves(
        plan,
        states({ score: ['done', { score: 8 }], qualify: 'pending', notify: 'pending', report: 'pending' }),
        scopeOf,
      ),
    ).toEqual([{ kind: 'dispatch', step: 'qualify' }]);
  });

  it('settles a failed dependency by its on_failure: continue runs the dependents, abort never does', () => {
    const plan = planOf(
      workflow([
        step('a', { on_failure: 'continue' }),
        step('b', { on_failure: 'abort' }),
        step('x', { depends_on: ['a'] }),
        step('y', { depends_on: ['b'] }),
      ]),
    );
    expect(nextMoves(plan, states({ a: 'failed', b: 'failed', x: 'pending', y: 'pending' }), scopeOf)).toEqual([
      { kind: 'dispatch', step: 'x' },
    ]);
  });

  it('keeps a fallback dormant until its owner failed for good; the owner’s dependents wait for it', () => {
    const plan = planOf(
      workflow([
        step('main', { on_failure: 'fallback:backup' }),
        step('backup'),
        step('child', { depends_on: ['main'] }),
      ]),
    );
    expect(nextMoves(plan, states({ main: 'running', backup: 'pending', child: 'pending' }), scopeOf)).toEqual([]);
    expect(nextMoves(plan, states({ main: 'retrying', backup: 'pending', child: 'pending' }), scopeOf)).toEqual([]);
    expect(nextMoves(plan, states({ main: 'failed', backup: 'pending', child: 'pending' }), scopeOf)).toEqual([
      { kind: 'dispatch', step: 'backup' },
    ]);
    expect(nextMoves(plan, states({ main: 'failed', backup: 'running', child: 'pending' }), scopeOf)).toEqual([]);
    expect(nextMoves(plan, states({ main: 'failed', backup: 'done', child: 'pending' }), scopeOf)).toEqual([
      { kind: 'dispatch', step: 'child' },
    ]);
    expect(nextMoves(plan, states({ main: 'failed', backup: 'skipped', child: 'pending' }), scopeOf)).toEqual([
      { kind: 'skip', step: 'child', reason: 'dependency main was skipped' },
    ]);
  });

  it('skips a fallback that is not needed', () => {
    const plan = planOf(
      workflow([
        step('main', { on_failure: 'fallback:backup' }),
        step('backup'),
        step('child', { depends_on: ['main'] }),
      ]),
    );
    expect(nextMoves(plan, states({ main: 'done', backup: 'pending', child: 'pending' }), scopeOf)).toEqual([
      { kind: 'skip', step: 'backup', reason: 'not needed: main was done' },
      { kind: 'dispatch', step: 'child' },
    ]);
    expect(nextMoves(plan, states({ main: 'skipped', backup: 'pending', child: 'pending' }), scopeOf)).toEqual([
      { kind: 'skip', step: 'backup', reason: 'not needed: main was skipped' },
      { kind: 'skip', step: 'child', reason: 'dependency main was skipped' },
    ]);
  });
});

describe('afterFailedAttempt', () => {
  const half = () => 0.5;
  it('retries while attempts are left, then applies on_failure', () => {
    const definition = workflow([step('s', { retry: { max: 2, backoff_s: 2 } })]).steps[0];
    if (!definition) throw new Error('no step');
    expect(afterFailedAttempt(definition, 1, half)).toEqual({ kind: 'retry', delayMs: 2000 });
    expect(afterFailedAttempt(definition, 2, half)).toEqual({ kind: 'retry', delayMs: 4000 });
    expect(afterFailedAttempt(definition, 3, half)).toEqual({ kind: 'abort' });
  });

  it('names the policy once retries are spent', () => {
    const [skip, keepGoing, fallback] = workflow([
      step('a', { on_failure: 'skip' }),
      step('b', { on_failure: 'continue' }),
      step('c', { on_failure: 'fallback:a' }),
    ]).steps;
    if (!skip || !keepGoing || !fallback) throw new Error('steps missing');
    expect(afterFailedAttempt(skip, 1)).toEqual({ kind: 'skip' });
    expect(afterFailedAttempt(keepGoing, 1)).toEqual({ kind: 'continue' });
    expect(afterFailedAttempt(fallback, 1)).toEqual({ kind: 'fallback', step: 'a' });
  });
});

describe('retryDelayMs', () => {
  it('doubles per attempt with ±25% jitter, capped at a day', () => {
    const retry = { max: 20, backoff_s: 1 };
    expect(retryDelayMs(retry, 1, () => 0)).toBe(750);
    expect(retryDelayMs(retry, 1, () => 1)).toBe(1250);
    expect(retryDelayMs(retry, 3, () => 0.5)).toBe(4000);
    expect(retryDelayMs({ max: 20, backoff_s: 3600 }, 20, () => 0.5)).toBe(MAX_RETRY_DELAY_MS);
  });
});
