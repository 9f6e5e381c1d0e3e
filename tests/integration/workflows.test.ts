// Workflow runs in the in-process mesh over real agent processes and the fake
// provider: the DAG walks in parallel where it can, results flow into later templates
// and conditions as JSON, promotions reach the blackboard (an agent's own promotions
// only within its permissions), false conditions and skipped dependencies skip with a
// reason, and every transition is a row and an event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlackboardEntrySchema } from '../../src/shared/wire/blackboard.js';
import { EventListSchema } from '../../src/shared/wire/events.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { finalRun, stepCalls, stepOf, workflowResponder } from '../helpers/workflows.js';
import { eventually } from '../helpers/triggers.js';

const AGENTS = `agents:
  alpha:
    role: research
  beta:
    role: research
  gamma:
    role: qualify
`;

const PIPELINE = `name: pipeline
description: research, two branches in parallel, a join
steps:
  - id: research
    agent: alpha
    task_type: 'answer {"score": 7, "region": "EU", "name": "acme"}'
    input: '\${trigger.payload}'
    promote: 'context/prospect_\${trigger.payload.name}'
  - id: left
    agent: alpha
    depends_on: [research]
    task_type: sleep 1 left-done
    input: "score \${steps.research.result.score}"
  - id: right
    capability: research
    depends_on: [research]
    task_type: sleep 1 right-done
    input: '\${steps.research.result.region}'
  - id: join
    agent: gamma
    depends_on: [left, right]
    condition: "steps.research.result.score >= 5 && steps.research.result.region in ['EU', 'US']"
    task_type: echo
    input: { left: '\${steps.left.result}', right: '\${steps.right.result}', score: '\${steps.research.result.score}' }
on_complete: { publish: pipeline_done }
`;

/** Started by the pipeline's on_complete: a topic trigger. */
const AFTER = `name: after
trigger: { topic: pipeline_done }
steps:
  - id: note
    agent: gamma
    task_type: echo
    input: "pipeline \${trigger.payload.run_id} ended \${trigger.payload.status} with join \${trigger.payload.results.join.score}"
`;

const GATED = `name: gated
steps:
  - id: score
    agent: alpha
    task_type: 'answer {"score": 2}'
  - id: qualify
    agent: beta
    depends_on: [score]
    condition: steps.score.result.score >= 5
    task_type: answer qualified
  - id: notify
    agent: beta
    depends_on: [qualify]
    task_type: answer notified
  - id: report
    agent: gamma
    depends_on: [qualify]
    run_if_dependency_skipped: true
    task_type: echo
    input: "qualify was \${steps.qualify.status}"
`;

const PROMOTING = `name: promoting
steps:
  - id: write
    agent: alpha
    task_type: 'promote [{"key": "agents/alpha/own", "value": 1}, {"key": "context/not_yours", "value": 2}]'
`;

describe('workflow runs', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml: AGENTS,
      workflows: { 'pipeline.yaml': PIPELINE, 'after.yaml': AFTER, 'gated.yaml': GATED, 'promoting.yaml': PROMOTING },
    });
    h.fake.respondWith(workflowResponder);
  });
  afterAll(async () => h?.close());

  it('lists the workflows with their trigger and steps', async () => {
    const { workflows } = await h.client.listWorkflows();
    expect(workflows.map((w) => w.name)).toEqual(['after', 'gated', 'pipeline', 'promoting']);
    expect(workflows.find((w) => w.name === 'after')).toMatchObject({
      trigger: 'topic:pipeline_done',
      steps: ['note'],
      file: 'config/workflows/after.yaml',
    });
    expect(workflows.find((w) => w.name === 'pipeline')).toMatchObject({
      trigger: 'manual',
      description: 'research, two branches in parallel, a join',
      steps: ['research', 'left', 'right', 'join'],
    });
  });

  it('runs a DAG: branches overlap on two agents, the join reads both JSON results, the result is promoted, on_complete starts the next workflow', async () => {
    const started = await h.client.startWorkflowRun('pipeline', { name: 'acme' });
    expect(started).toMatchObject({
      workflow: 'pipeline',
      status: 'running',
      trigger: 'manual',
      input: { name: 'acme' },
    });
    const run = await finalRun(h.client, started.id);
    expect(run).toMatchObject({ status: 'done', error: null });
    expect(stepOf(run, 'research')).toMatchObject({
      status: 'done',
      agent: 'alpha',
      attempt: 1,
      task_id: `${run.id}.research.1`,
      result: { score: 7, region: 'EU', name: 'acme' },
    });
    // The capability step went to the research agent whose lane was empty.
    expect(stepOf(run, 'right')).toMatchObject({ status: 'done', agent: 'beta', result: 'right-done' });
    expect(stepOf(run, 'join')).toMatchObject({
      status: 'done',
      agent: 'gamma',
      result: { left: 'left-done', right: 'right-done', score: 7 },
    });

    const left = stepOf(run, 'left');
    const right = stepOf(run, 'right');
    expect(Date.parse(left.started_at ?? '')).toBeLessThan(Date.parse(right.finished_at ?? ''));
    expect(Date.parse(right.started_at ?? '')).toBeLessThan(Date.parse(left.finished_at ?? ''));

    // The templates rendered from the stored results: a number interpolated, a value taken whole.
    expect(stepCalls(h.fake.calls, run.id, 'left')[0]?.input).toBe('score 7');
    expect(stepCalls(h.fake.calls, run.id, 'right')[0]?.input).toBe('EU');

    const entry = await h.client.requestJson(
      'GET',
      '/api/blackboard/entries/context/prospect_acme',
      BlackboardEntrySchema,
    );
    expect(entry).toMatchObject({
      value: { score: 7, region: 'EU', name: 'acme' },
      writer: 'workflow:pipeline',
      version: 1,
    });

    const { runs } = await h.client.listWorkflowRuns(10);
    const after = runs.find((r) => r.workflow === 'after');
    expect(after).toMatchObject({ trigger: 'topic:pipeline_done' });
    const note = await finalRun(h.client, after?.id ?? '');
    expect(stepOf(note, 'note').result).toBe(`pipeline ${run.id} ended done with join 7`);
  });

  it('records every transition as a row, in order, and as an event', async () => {
    const { runs } = await h.client.listWorkflowRuns(10);
    const pipeline = runs.find((r) => r.workflow === 'pipeline');
    const { transitions, run_status } = await h.client.workflowTransitions(pipeline?.id ?? '', 0);
    expect(run_status).toBe('done');
    const lines = transitions.map((t) => `${t.step ?? 'run'} ${t.status}`);
    expect(lines[0]).toBe('run started');
    expect(lines.at(-1)).toBe('run done');
    for (const step of ['research', 'left', 'right', 'join']) {
      expect(lines.filter((line) => line.startsWith(`${step} `))).toEqual([
        `${step} queued`,
        `${step} running`,
        `${step} done`,
      ]);
    }
    expect(lines.indexOf('join queued')).toBeGreaterThan(lines.indexOf('left done'));
    expect(lines.indexOf('join queued')).toBeGreaterThan(lines.indexOf('right done'));
    const seqs = transitions.map((t) => t.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const after = await h.client.workflowTransitions(pipeline?.id ?? '', seqs[3] ?? 0);
    expect(after.transitions.map((t) => t.seq)).toEqual(seqs.slice(4));

    const events = await h.client.requestJson('GET', '/api/events?after=0&limit=1000', EventListSchema);
    const ofRun = events.events.filter((e) => e.kind === 'workflow' && e.subject === pipeline?.id);
    expect(ofRun).toHaveLength(transitions.length);
    expect(ofRun.every((e) => e.trace === pipeline?.id)).toBe(true);
    expect(ofRun.find((e) => (e.detail as { step?: string }).step === 'right')?.agent).toBe('beta');
  });

  it('skips a step whose condition is false and its dependents, unless they run_if_dependency_skipped', async () => {
    const run = await finalRun(h.client, (await h.client.startWorkflowRun('gated', undefined)).id);
    expect(run.status).toBe('done');
    expect(run.input).toBeNull();
    expect(stepOf(run, 'qualify')).toMatchObject({
      status: 'skipped',
      reason: 'condition false: steps.score.result.score >= 5',
      attempt: 0,
      agent: null,
    });
    expect(stepOf(run, 'notify')).toMatchObject({ status: 'skipped', reason: 'dependency qualify was skipped' });
    expect(stepOf(run, 'report')).toMatchObject({ status: 'done', result: 'qualify was skipped' });
    expect(stepCalls(h.fake.calls, run.id, 'qualify')).toEqual([]);
    expect(stepCalls(h.fake.calls, run.id, 'notify')).toEqual([]);
    const { transitions } = await h.client.workflowTransitions(run.id, 0);
    expect(transitions.filter((t) => t.status === 'skipped').map((t) => [t.step, t.detail])).toEqual([
      ['qualify', 'condition false: steps.score.result.score >= 5'],
      ['notify', 'dependency qualify was skipped'],
    ]);
  });

  it("carries out an agent's own promotions within its blackboard_write, and records the denied one", async () => {
    const run = await finalRun(h.client, (await h.client.startWorkflowRun('promoting', undefined)).id);
    expect(run.status).toBe('done');
    const write = stepOf(run, 'write');
    expect(write.result).toBe('promoted');
    expect(write.reason).toMatch(/^promotion of context\/not_yours denied: /);
    const own = await h.client.requestJson('GET', '/api/blackboard/entries/agents/alpha/own', BlackboardEntrySchema);
    expect(own).toMatchObject({ value: 1, writer: 'alpha' });
    await expect(
      h.client.requestJson('GET', '/api/blackboard/entries/context/not_yours', BlackboardEntrySchema),
    ).rejects.toThrow(/context\/not_yours/);
    const denied = await eventually(async () => {
      const { events } = await h.client.requestJson(
        'GET',
        '/api/events?agent=alpha&after=0&limit=1000',
        EventListSchema,
      );
      return events.find((e) => e.kind === 'denied' && e.subject === 'context/not_yours') ?? null;
    }, 'the denial event');
    expect(denied).toMatchObject({ trace: run.id, detail: { permission: 'blackboard_write' } });
  });

  it('answers 404 for an unknown workflow or run, naming it, and 409 when cancelling a finished run', async () => {
    await expect(h.client.startWorkflowRun('nope', undefined)).rejects.toMatchObject({
      status: 404,
      message: 'no workflow named "nope" (workflows: after, gated, pipeline, promoting)',
    });
    await expect(h.client.workflowRun('run_missing')).rejects.toThrow(/no workflow run "run_missing"/);
    const { runs } = await h.client.listWorkflowRuns(1);
    await expect(h.client.cancelWorkflowRun(runs[0]?.id ?? '')).rejects.toThrow(/already finished: its status is done/);
  });
});
