// The task wire contract: defaults, bounds and strictness of POST /task bodies.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TASK_ITERATIONS,
  TaskRequestSchema,
  TaskStatusSchema,
  isFinalTaskStatus,
} from '../../src/shared/wire/task.js';

const base = { task_id: 'run_1.research:2', task_type: 'research_prospect', input: { name: 'Acme' } };

describe('TaskRequestSchema', () => {
  it('defaults max_iterations and accepts any JSON input, a string included', () => {
    expect(TaskRequestSchema.parse(base)).toEqual({ ...base, max_iterations: DEFAULT_TASK_ITERATIONS });
    expect(TaskRequestSchema.parse({ ...base, input: 'plain text' }).input).toBe('plain text');
    expect(TaskRequestSchema.parse({ ...base, input: null }).input).toBeNull();
  });

  it('refuses what would break the contract, naming the field', () => {
    const refuse = (body: Record<string, unknown>) => {
      const result = TaskRequestSchema.safeParse(body);
      return result.success ? null : result.error.issues.map((issue) => issue.path.join('.'));
    };
    expect(refuse({ ...base, max_iteration: 3 })).toEqual(['']);
    expect(refuse({ ...base, task_id: 'has/slash' })).toEqual(['task_id']);
    expect(refuse({ ...base, task_id: 'x'.repeat(129) })).toEqual(['task_id']);
    expect(refuse({ ...base, max_iterations: 0 })).toEqual(['max_iterations']);
    expect(refuse({ ...base, max_iterations: 101 })).toEqual(['max_iterations']);
    expect(refuse({ ...base, timeout_s: 0 })).toEqual(['timeout_s']);
    expect(refuse({ ...base, task_type: 'two\nlines' })).toEqual(['task_type']);
    expect(refuse({ ...base, output_schema: 'not an object' })).toEqual(['output_schema']);
    expect(refuse({ task_id: 'a', task_type: 'b' })).toEqual(['input']);
  });
});

describe('isFinalTaskStatus', () => {
  it('is true exactly for the statuses that never change again', () => {
    expect(TaskStatusSchema.options.filter(isFinalTaskStatus)).toEqual(['done', 'failed', 'cancelled', 'timeout']);
  });
});
