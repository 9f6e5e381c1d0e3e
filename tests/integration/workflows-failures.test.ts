// Workflow runs that go wrong, in the in-process mesh over real agent processes and the
// fake provider: retries with backoff, each on_failure policy once retries are spent,
// a step timeout and a run timeout (both cancel the agent's task), and a cancel by
// the operator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/shared/wire/workflow.js';
import { fetchTaskResult } from '../../src/mesh/runtime/agent-client.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { eventually } from '../helpers/triggers.js';
import { finalRun, stepCalls, stepOf, workflowResponder } from '../helpers/workflows.js';

const AGENTS = `agents:
  alpha:
    role: worker
  beta:
    role: worker
`;

const WORKFLOWS: Record<string, string> = {
  'flaky.yaml': `name: flaky
steps:
  - id: shaky
    agent: alpha
    task_type: 'fail_until 3 {"ok": true}'
    retry: { max: 3, backoff_s: 0.2 }
  - id: after
    agent: beta
    depends_on: [shaky]
    condition: steps.shaky.result.ok == true
    task_type: answer after-ok
`,
  'aborting.yaml': `name: aborting
steps:
  - id: broken
    agent: alpha
    task_type: fail
    retry: { max: 1, backoff_s: 0.5 }
  - id: slow
    agent: beta
    task_type: sleep 20 never
  - id: later
    agent: alpha
    depends_on: [broken]
    task_type: answer never
`,
  'skipping.yaml': `name: skipping
steps:
  - id: broken
    agent: alpha
    task_type: fail
    on_failure: skip
  - id: child
    agent: beta
    depends_on: [broken]
    task_type: answer never
  - id: tolerant
    agent: beta
    depends_on: [broken]
    run_if_dependency_skipped: true
    task_type: answer tolerant-ran
`,
  'continuing.yaml': `name: continuing
steps:
  - id: broken
    agent: alpha
    task_type: fail
    on_failure: continue
  - id: child
    agent: beta
    depends_on: [broken]
    task_type: echo
    input: 'broken gave "\${steps.broken.result}" (\${steps.broken.status})'
`,
  'falling.yaml': `name: falling
steps:
  - id: main
    agent: alpha
    task_type: fail
    on_failure: fallback:backup
  - id: backup
    agent: beta
    task_type: 'answer {"from": "backup"}'
  - id: child
    agent: alpha
    depends_on: [main]
    task_type: echo
    input: '\${steps.backup.result.from}'
`,
  'fine.yaml': `name: fine
steps:
  - id: main
    agent: alpha
    task_type: answer main-ok
    on_failure: fallback:backup
  - id: backup
    agent: beta
    task_type: answer never
  - id: child
    agent: alpha
    depends_on: [main]
    task_type: answer child-ok
`,
  'stepslow.yaml': `name: stepslow
steps:
  - id: stuck
    agent: alpha
    task_type: sleep 30 never
    timeout: 1
    on_failure: continue
  - id: next
    agent: alpha
    depends_on: [stuck]
    task_type: answer next-ok
`,
  'runslow.yaml': `name: runslow
timeout: 1
steps:
  - id: stuck
    agent: beta
    task_type: sleep 30 never
  - id: next
    agent: beta
    depends_on: [stuck]
    task_type: answer never
`,
  'cancelme.yaml': `name: cancelme
steps:
  - id: stuck
    agent: alpha
    task_type: sleep 30 never
`,
};

describe('workflow failures', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: AGENTS, workflows: WORKFLOWS });
    h.fake.respondWith(workflowResponder);
  });
  afterAll(async () => h?.close());

  const run = async (name: string): Promise<RunView> =>
    finalRun(h.client, (await h.client.startWorkflowRun(name, undefined)).id);
  const transitionsOf = async (runId: string, step: string): Promise<string[]> =>
    (await h.client.workflowTransitions(runId, 0)).transitions
      .filter((t) => t.step === step)
      .map((t) => `${t.status} ${t.attempt}`);
  /** The agent's own record of a task (GET /result on the agent). */
  const agentTask = async (agent: string, taskId: string) => fetchTaskResult(h.mesh.fleet.endpoint(agent), taskId, 0);

  it('retries a failed attempt after its backoff with a new task id, then succeeds', async () => {
    const flaky = await run('flaky');
    expect(flaky.status).toBe('done');
    expect(stepOf(flaky, 'shaky')).toMatchObject({
      status: 'done',
      attempt: 3,
      task_id: `${flaky.id}.shaky.3`,
      result: { ok: true },
      error: null,
    });
    expect(stepOf(flaky, 'after')).toMatchObject({ status: 'done', result: 'after-ok' });
    expect(await transitionsOf(flaky.id, 'shaky')).toEqual([
      'queued 1',
      'running 1',
      'retried 1',
      'queued 2',
      'running 2',
      'retried 2',
      'queued 3',
      'running 3',
      'done 3',
    ]);
    expect(new Set(stepCalls(h.fake.calls, flaky.id, 'shaky').map((c) => c.id))).toEqual(
      new Set([1, 2, 3].map((n) => `${flaky.id}.shaky.${n}`)),
    );
    const { transitions } = await h.client.workflowTransitions(flaky.id, 0);
    const retried = transitions.filter((t) => t.status === 'retried');
    expect(retried[0]?.detail).toMatch(
      /^attempt 1 failed: task \S+\.shaky\.1 failed \(.*scripted failure.*\); attempt 2 at /,
    );
    // Backoff doubles with jitter: about 0.2 s, then about 0.4 s.
    const gap = (from: string, to: string) =>
      Date.parse(transitions.find((t) => t.step === 'shaky' && `${t.status} ${t.attempt}` === to)?.at ?? '') -
      Date.parse(transitions.find((t) => t.step === 'shaky' && `${t.status} ${t.attempt}` === from)?.at ?? '');
    expect(gap('retried 1', 'queued 2')).toBeGreaterThanOrEqual(140);
    expect(gap('retried 2', 'queued 3')).toBeGreaterThanOrEqual(290);
  });

  it('aborts the run when retries are spent under on_failure abort, cancelling what runs on other agents', async () => {
    const started = await h.client.startWorkflowRun('aborting', undefined);
    await eventually(
      async () =>
        (await h.client.workflowRun(started.id)).steps.find((s) => s.id === 'slow')?.status === 'running' ? true : null,
      'the slow step to run',
    );
    const aborted = await finalRun(h.client, started.id);
    expect(aborted.status).toBe('failed');
    expect(aborted.error).toMatch(/^step broken failed: task \S+\.broken\.2 failed/);
    expect(stepOf(aborted, 'broken')).toMatchObject({
      status: 'failed',
      attempt: 2,
      reason: 'failed after 2 attempts (on_failure: abort)',
    });
    expect(stepOf(aborted, 'slow')).toMatchObject({
      status: 'cancelled',
      reason: 'the run ended (failed) before this step finished',
    });
    expect(stepOf(aborted, 'later')).toMatchObject({ status: 'cancelled', attempt: 0 });
    const rows = (await h.client.workflowTransitions(aborted.id, 0)).transitions.map(
      (t) => `${t.step ?? 'run'} ${t.status} ${t.attempt}`,
    );
    expect(rows.slice(-4)).toEqual(['broken failed 2', 'slow cancelled 1', 'later cancelled 0', 'run failed 0']);
    await eventually(
      async () => ((await agentTask('beta', `${aborted.id}.slow.1`))?.status === 'cancelled' ? true : null),
      "beta's task to be cancelled",
    );
    // beta's lane is free again (the cancelled task no longer holds it).
    await eventually(
      async () => ((await h.mesh.status()).agents.find((a) => a.name === 'beta')?.lane.inflight === 0 ? true : null),
      "beta's lane to drain",
    );
    expect(stepCalls(h.fake.calls, aborted.id, 'slow')).toHaveLength(1);
  });

  it('skips a step that failed for good under on_failure skip; its dependents follow the skip rule', async () => {
    const skipping = await run('skipping');
    expect(skipping.status).toBe('done');
    expect(stepOf(skipping, 'broken')).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^failed after 1 attempt, skipped \(on_failure: skip\): /),
      error: expect.stringContaining('scripted failure'),
    });
    expect(stepOf(skipping, 'child')).toMatchObject({ status: 'skipped', reason: 'dependency broken was skipped' });
    expect(stepOf(skipping, 'tolerant')).toMatchObject({ status: 'done', result: 'tolerant-ran' });
  });

  it('keeps a failed step failed under on_failure continue; its dependents run with a null result', async () => {
    const continuing = await run('continuing');
    expect(continuing.status).toBe('done');
    expect(stepOf(continuing, 'broken')).toMatchObject({ status: 'failed', result: null });
    expect(stepOf(continuing, 'child')).toMatchObject({ status: 'done', result: 'broken gave "" (failed)' });
  });

  it('runs the fallback in place of a step that failed for good, and skips it when the step is done', async () => {
    const falling = await run('falling');
    expect(falling.status).toBe('done');
    expect(stepOf(falling, 'main')).toMatchObject({
      status: 'failed',
      reason: 'failed after 1 attempt; fallback backup runs in its place',
    });
    expect(stepOf(falling, 'backup')).toMatchObject({ status: 'done', result: { from: 'backup' } });
    expect(stepOf(falling, 'child')).toMatchObject({ status: 'done', result: 'backup' });
    const order = (await h.client.workflowTransitions(falling.id, 0)).transitions.map(
      (t) => `${t.step ?? 'run'} ${t.status}`,
    );
    expect(order.indexOf('child queued')).toBeGreaterThan(order.indexOf('backup done'));

    const fine = await run('fine');
    expect(fine.status).toBe('done');
    expect(stepOf(fine, 'backup')).toMatchObject({ status: 'skipped', reason: 'not needed: main was done' });
    expect(stepCalls(h.fake.calls, fine.id, 'backup')).toEqual([]);
  });

  it("fails an attempt that outlives the step timeout and cancels the agent's task", async () => {
    const started = Date.now();
    const slow = await run('stepslow');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(slow.status).toBe('done');
    expect(stepOf(slow, 'stuck')).toMatchObject({ status: 'failed', error: 'timed out after 1 s' });
    expect(stepOf(slow, 'next')).toMatchObject({ status: 'done', result: 'next-ok' });
    expect(await agentTask('alpha', `${slow.id}.stuck.1`)).toMatchObject({ status: 'cancelled' });
  });

  it('ends a run that outlives its timeout: what runs is cancelled, on the agent too', async () => {
    const slow = await run('runslow');
    expect(slow).toMatchObject({ status: 'timeout', error: 'the run took longer than its timeout (1 s)' });
    expect(stepOf(slow, 'stuck')).toMatchObject({
      status: 'cancelled',
      reason: 'the run ended (timeout) before this step finished',
    });
    expect(stepOf(slow, 'next')).toMatchObject({ status: 'cancelled' });
    await eventually(
      async () => ((await agentTask('beta', `${slow.id}.stuck.1`))?.status === 'cancelled' ? true : null),
      "beta's task to be cancelled",
    );
    const { transitions } = await h.client.workflowTransitions(slow.id, 0);
    expect(transitions.at(-1)).toMatchObject({ step: null, status: 'timeout' });
  });

  it('cancels a run on request; cancelling it again is a 409 naming its status', async () => {
    const started = await h.client.startWorkflowRun('cancelme', undefined);
    await eventually(
      async () => ((await h.client.workflowRun(started.id)).steps[0]?.status === 'running' ? true : null),
      'the step to run',
    );
    const cancelled = await h.client.cancelWorkflowRun(started.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', error: 'cancelled by the operator' });
    expect(stepOf(cancelled, 'stuck').status).toBe('cancelled');
    await eventually(
      async () => ((await agentTask('alpha', `${started.id}.stuck.1`))?.status === 'cancelled' ? true : null),
      "alpha's task to be cancelled",
    );
    const rows = (await h.client.workflowTransitions(started.id, 0)).transitions.map(
      (t) => `${t.step ?? 'run'} ${t.status}`,
    );
    expect(rows).toEqual(['run started', 'stuck queued', 'stuck running', 'stuck cancelled', 'run cancelled']);
    await expect(h.client.cancelWorkflowRun(started.id)).rejects.toMatchObject({
      status: 409,
      message: `workflow run ${started.id} already finished: its status is cancelled`,
    });
  });
});
