// What the workflow commands print and read: --input as JSON text or @file (errors name
// the flag and the problem), one line per transition with the step's agent and attempt,
// and a run's steps with their reasons and pretty JSON results.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { formatRun, formatTransition, readWorkflowInput } from '../../src/cli/workflow-view.js';
import type { RunView } from '../../src/shared/wire/workflow.js';

const dir = mkdtempSync(join(tmpdir(), 'legion-wf-view-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readWorkflowInput', () => {
  it('reads JSON text, or the JSON file after @ relative to the directory', () => {
    expect(readWorkflowInput('{"name":"Acme"}', dir)).toEqual({ name: 'Acme' });
    expect(readWorkflowInput('"plain"', dir)).toBe('plain');
    writeFileSync(join(dir, 'payload.json'), '{"score": 7}\n');
    expect(readWorkflowInput('@payload.json', dir)).toEqual({ score: 7 });
  });

  it('names the flag and the problem for bad JSON and a missing file', () => {
    expect(() => readWorkflowInput('{name: Acme}', dir)).toThrow(/^--input is not valid JSON: /);
    expect(() => readWorkflowInput('@missing.json', dir)).toThrow(
      `--input @missing.json: no such file ${join(dir, 'missing.json')}`,
    );
    writeFileSync(join(dir, 'bad.json'), 'not json');
    expect(() => readWorkflowInput('@bad.json', dir)).toThrow(
      /^--input @bad\.json \(.*bad\.json\) is not valid JSON: /,
    );
    expect(() => readWorkflowInput('@', dir)).toThrow('--input @ needs a file name');
  });
});

describe('formatTransition', () => {
  const at = new Date(2024, 0, 1, 9, 30, 5, 42).toISOString();
  it('prints time, step, status, agent, attempt and detail on one line', () => {
    const line = formatTransition(
      { seq: 3, run_id: 'r1', step: 'left', status: 'running', attempt: 2, detail: 'task r1.left.2\non wf-alpha', at },
      'wf-alpha',
      { step: 6, agent: 10 },
    );
    expect(line).toBe('09:30:05.042  left    running    wf-alpha    attempt 2  task r1.left.2 on wf-alpha');
    const skipped = formatTransition(
      { seq: 4, run_id: 'r1', step: 'notify', status: 'skipped', attempt: 0, detail: null, at },
      null,
      { step: 6, agent: 3 },
    );
    expect(skipped).toBe('09:30:05.042  notify  skipped    -    attempt 0');
  });
  it('labels changes of the run itself', () => {
    expect(
      formatTransition({ seq: 1, run_id: 'r1', step: null, status: 'started', attempt: 0, detail: null, at }, null, {
        step: 5,
        agent: 3,
      }),
    ).toBe('09:30:05.042  run    started');
    expect(
      formatTransition(
        { seq: 9, run_id: 'r1', step: null, status: 'done', attempt: 0, detail: 'all steps done', at },
        null,
        { step: 3, agent: 3 },
      ),
    ).toBe('09:30:05.042  run  done       all steps done');
  });
});

describe('formatRun', () => {
  it('shows each step with its agent, attempt and why, and the results as pretty JSON', () => {
    const step = { task_id: null, error: null, reason: null, started_at: null, finished_at: null };
    const run: RunView = {
      id: 'r1',
      workflow: 'pipeline',
      status: 'failed',
      trigger: 'manual',
      input: { name: 'Acme' },
      error: 'step qualify failed',
      created_at: '2024-01-01T09:00:00.000Z',
      finished_at: '2024-01-01T09:01:00.000Z',
      steps: [
        { ...step, id: 'research', status: 'done', agent: 'wf-alpha', attempt: 1, result: { score: 7 } },
        {
          ...step,
          id: 'qualify',
          status: 'failed',
          agent: 'wf-beta',
          attempt: 3,
          result: null,
          reason: 'retries exhausted',
          error: 'timeout',
        },
        { ...step, id: 'notify', status: 'skipped', agent: null, attempt: 0, result: null, reason: 'condition false' },
      ],
    };
    const text = formatRun(run);
    expect(text).toContain('run r1 (pipeline) failed: step qualify failed');
    expect(text).toMatch(/^research\s+done\s+wf-alpha\s+1\s+-$/m);
    expect(text).toMatch(/^qualify\s+failed\s+wf-beta\s+3\s+retries exhausted: timeout$/m);
    expect(text).toMatch(/^notify\s+skipped\s+-\s+0\s+condition false$/m);
    expect(text).toContain('results:\n  research:\n    {\n      "score": 7\n    }');
  });
});
