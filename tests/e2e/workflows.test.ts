// Workflows with real containers: a four-step DAG (one step, two in parallel on two
// agents, a join) run with `legion workflow run --follow`, whose output shows the
// parallel steps overlapping, whose join reads both results, and whose promoted result
// lands on the blackboard; then a run that survives a SIGKILL of the mesh mid-step and
// completes after `legion start -d` without any step done twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  directiveResponder,
  startFakeProvider,
  type FakeCall,
  type FakeProvider,
  type FakeStep,
} from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { dockerAvailable } from '../helpers/docker.js';
import { tearDownFleet, killMesh } from '../helpers/fleet.js';
import { waitFor } from '../helpers/wait.js';
import { RunViewSchema, type RunView } from '../../src/shared/wire/workflow.js';

const available = await dockerAvailable();

const FANOUT = `name: fanout
description: one step, two in parallel on two agents, then a join
steps:
  - id: research
    agent: wf-alpha
    task_type: research
  - id: left
    agent: wf-alpha
    task_type: slow_left
    depends_on: [research]
    input: "\${steps.research.result}"
  - id: right
    agent: wf-beta
    task_type: slow_right
    depends_on: [research]
    input: "\${steps.research.result}"
  - id: join
    agent: wf-beta
    task_type: join
    depends_on: [left, right]
    input: { left: "\${steps.left.result}", right: "\${steps.right.result}" }
    promote: context/wf_\${trigger.payload.name}
`;

// The first step sleeps long enough for the test to kill the mesh and start it again
// before the agent, still running in its container, asks the model for its answer.
const DURABLE = `name: durable
steps:
  - id: slow
    agent: wf-alpha
    task_type: long_sleep
  - id: after
    agent: wf-beta
    task_type: after_sleep
    depends_on: [slow]
    input: "\${steps.slow.result}"
`;

/** The task a model call belongs to, read from task mode's system prompt. */
function taskOf(call: FakeCall): { id: string; type: string; system: string } | null {
  const system = call.messages.find((m) => m.role === 'system')?.content ?? '';
  const id = /^Task id: (\S+)$/m.exec(system)?.[1];
  const type = /^Task type: (.+)$/m.exec(system)?.[1];
  return id && type ? { id, type, system } : null;
}

/** A task's first model call: every run of a task makes exactly one. */
const opensTask = (call: FakeCall) => !call.messages.some((m) => m.role === 'tool' || m.role === 'assistant');

/** A slow step sleeps in the container (the exec tool) before it answers. */
function sleepThen(call: FakeCall, seconds: number, answer: unknown): FakeStep {
  if (call.messages.at(-1)?.role !== 'tool')
    return { tool_calls: [{ name: 'exec', arguments: { command: `sleep ${seconds}`, timeout_s: 60 } }] };
  return { text: JSON.stringify(answer) };
}

function respond(call: FakeCall): FakeStep {
  const task = taskOf(call);
  switch (task?.type) {
    case 'research':
      return { text: JSON.stringify({ name: 'acme', score: 7 }) };
    case 'slow_left':
      return sleepThen(call, 1.5, { mark: 'left-result-91' });
    case 'slow_right':
      return sleepThen(call, 1.5, { mark: 'right-result-37' });
    case 'join':
      return { text: JSON.stringify({ joined: true }) };
    case 'long_sleep':
      return sleepThen(call, 12, { slept: true });
    case 'after_sleep':
      return { text: JSON.stringify({ after: true }) };
    default:
      return directiveResponder(call);
  }
}

/** Index of the first --follow line of `step` with `status`, or -1. */
function lineOf(lines: string[], step: string, status: string): number {
  return lines.findIndex((line) => new RegExp(`^\\S+\\s+${step}\\s+${status}\\b`).test(line));
}

describe.skipIf(!available)('workflows with real containers', () => {
  let fake: FakeProvider;
  let project: TestProject;

  const runStatus = async (id: string): Promise<RunView> => {
    const result = await legion(['workflow', 'status', id, '--json'], project.dir);
    if (result.code !== 0) throw new Error(`workflow status ${id} failed: ${result.stderr}`);
    return RunViewSchema.parse(JSON.parse(result.stdout));
  };

  beforeAll(async () => {
    fake = await startFakeProvider({ respond });
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: 'agents:\n  wf-alpha:\n    role: researches\n  wf-beta:\n    role: analyses\n',
    });
    mkdirSync(join(project.dir, 'config', 'workflows'));
    writeFileSync(join(project.dir, 'config', 'workflows', 'fanout.yaml'), FANOUT);
    writeFileSync(join(project.dir, 'config', 'workflows', 'durable.yaml'), DURABLE);
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('runs a four-step DAG: the parallel steps overlap, the join sees both results, the result is promoted', async () => {
    const listed = await legion(['workflow', 'list'], project.dir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^fanout\s+manual\s+research, left, right, join\s/m);

    const run = await legion(['workflow', 'run', 'fanout', '--input', '{"name":"acme"}', '--follow'], project.dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    const firstDone = Math.min(lineOf(lines, 'left', 'done'), lineOf(lines, 'right', 'done'));
    expect(lineOf(lines, 'left', 'running')).toBeGreaterThan(lineOf(lines, 'research', 'done'));
    expect(lineOf(lines, 'left', 'running')).toBeLessThan(firstDone);
    expect(lineOf(lines, 'right', 'running')).toBeLessThan(firstDone);
    expect(lineOf(lines, 'right', 'running')).toBeGreaterThan(-1);
    expect(lines[lineOf(lines, 'left', 'running')]).toMatch(/\bwf-alpha\s+attempt 1\b/);
    expect(lines[lineOf(lines, 'right', 'running')]).toMatch(/\bwf-beta\s+attempt 1\b/);
    expect(run.stdout).toMatch(/^run \S+ \(fanout\) done$/m);
    expect(run.stdout).toContain('  join:\n    {\n      "joined": true\n    }');

    const joinCall = fake.calls.find((call) => taskOf(call)?.type === 'join');
    expect(joinCall).toBeDefined();
    const joinPrompt = taskOf(joinCall!)!.system;
    expect(joinPrompt).toContain('left-result-91');
    expect(joinPrompt).toContain('right-result-37');

    const promoted = await legion(['blackboard', 'get', 'context/wf_acme'], project.dir);
    expect(promoted.code).toBe(0);
    expect(JSON.parse(promoted.stdout)).toEqual({ joined: true });
  });

  it('resumes a run after a SIGKILL of the mesh mid-step, running no step twice', async () => {
    const started = await legion(['workflow', 'run', 'durable'], project.dir);
    expect(started.code).toBe(0);
    const id = started.stdout.trim().split('\n').at(-1) ?? '';
    expect(id).not.toBe('');
    // The agent has the slow step's tool call: it sleeps in its container now.
    await waitFor(
      () => fake.calls.find((call) => taskOf(call)?.id === `${id}.slow.1`) ?? null,
      'the slow step to start',
    );
    await waitFor(
      async () => ((await runStatus(id)).steps.find((s) => s.id === 'slow')?.status === 'running' ? true : null),
      'the slow step to show as running',
    );

    await killMesh(project);
    const restarted = await legion(['start', '-d'], project.dir);
    expect(restarted.code).toBe(0);

    const final = await waitFor(
      async () => {
        const run = await runStatus(id);
        return run.status === 'running' ? null : run;
      },
      'the run to finish',
      90_000,
    );
    expect(final.status).toBe('done');
    expect(final.steps.map((s) => [s.id, s.status, s.attempt])).toEqual([
      ['slow', 'done', 1],
      ['after', 'done', 1],
    ]);
    expect(final.steps.find((s) => s.id === 'after')?.result).toEqual({ after: true });
    // Each step's task ran once: one opening model call per task id, all of attempt 1.
    const opened = fake.calls
      .filter((call) => taskOf(call)?.id.startsWith(`${id}.`) && opensTask(call))
      .map((call) => taskOf(call)?.id);
    expect(opened.sort()).toEqual([`${id}.after.1`, `${id}.slow.1`]);
  });
});
