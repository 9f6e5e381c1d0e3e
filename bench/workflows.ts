// Workflow orchestration overhead, no Docker: an in-process mesh over real agent server
// processes (tests/helpers/process-runtime.ts) and a fake provider that answers at once.
// Per step: a chain of CHAIN_STEPS steps; for each step after the first, the gap
// between its finish and the previous step's finish (both as the mesh recorded them)
// minus the agent task's own run time (its TaskResult started_at -> finished_at, read
// from the agent); what is left is the orchestrator's work: noticing the result,
// storing it, resolving the next step's templates, dispatching its task on the lane.
// Wide DAG: WIDE_STEPS independent steps spread over WIDE_AGENTS agents, then one
// join; overhead = the run's wall time (created_at -> finished_at) minus the time the
// agents had to spend anyway, which is the busiest agent's summed task time plus the
// join's task time (an agent runs one task at a time).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Mesh } from '../src/mesh/server.js';
import { loadProject } from '../src/shared/config/project.js';
import { createLogger } from '../src/shared/logging.js';
import { MeshClient } from '../src/cli/mesh-client.js';
import { TaskResultSchema, type TaskResult } from '../src/shared/wire/task.js';
import { FINAL_RUN_STATUSES, type RunView } from '../src/shared/wire/workflow.js';
import type { AgentLaunch, RunningAgent } from '../src/mesh/runtime/types.js';
import { startFakeProvider } from '../tests/fakes/fake-provider.js';
import { ProcessRuntime } from '../tests/helpers/process-runtime.js';
import { freePort, makeProject } from '../tests/helpers/project.js';
import { median, percentile, type BenchRow } from './table.js';

const CHAIN_STEPS = 40;
const CHAIN_RUNS = 2;
const WIDE_STEPS = 50;
const WIDE_AGENTS = 5;
const AGENTS = Array.from({ length: WIDE_AGENTS }, (_, i) => `bench-wf-${i + 1}`);

/** Agent processes whose URLs and server tokens the bench keeps, to read task results. */
class RecordingRuntime extends ProcessRuntime {
  readonly servers = new Map<string, { url: string; token: string }>();

  override async start(launch: AgentLaunch): Promise<RunningAgent> {
    const running = await super.start(launch);
    this.servers.set(launch.agent, { url: running.url, token: launch.secrets.server_token });
    return running;
  }
}

function chainYaml(): string {
  const steps = Array.from({ length: CHAIN_STEPS }, (_, i) => {
    const needs = i === 0 ? '' : `\n    depends_on: [s${i - 1}]\n    input: "\${steps.s${i - 1}.result}"`;
    return `  - id: s${i}\n    agent: ${AGENTS[i % 2]}\n    task_type: chain_step${needs}`;
  });
  return `name: bench-chain\nsteps:\n${steps.join('\n')}\n`;
}

function wideYaml(): string {
  const ids = Array.from({ length: WIDE_STEPS }, (_, i) => `w${i}`);
  const steps = ids.map((id, i) => `  - id: ${id}\n    agent: ${AGENTS[i % WIDE_AGENTS]}\n    task_type: wide_step`);
  steps.push(`  - id: join\n    agent: ${AGENTS[0]}\n    task_type: wide_join\n    depends_on: [${ids.join(', ')}]`);
  return `name: bench-wide\nsteps:\n${steps.join('\n')}\n`;
}

async function runToEnd(client: MeshClient, workflow: string): Promise<RunView> {
  const started = await client.startWorkflowRun(workflow, { bench: true });
  for (;;) {
    const run = await client.workflowRun(started.id);
    if (FINAL_RUN_STATUSES.includes(run.status)) {
      if (run.status !== 'done')
        throw new Error(`bench run ${run.id} of ${workflow} ended ${run.status}: ${run.error ?? 'no error recorded'}`);
      return run;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function taskResult(runtime: RecordingRuntime, agent: string, taskId: string): Promise<TaskResult> {
  const server = runtime.servers.get(agent);
  if (!server) throw new Error(`no agent server recorded for ${agent}`);
  const response = await fetch(`${server.url}/result/${encodeURIComponent(taskId)}`, {
    headers: { authorization: `Bearer ${server.token}` },
  });
  if (!response.ok) throw new Error(`GET /result/${taskId} on ${agent}: ${response.status} ${await response.text()}`);
  return TaskResultSchema.parse(await response.json());
}

const ms = (iso: string | null): number => (iso === null ? NaN : Date.parse(iso));

/** The agent's own run time of each step's task, by step id. */
async function taskTimes(runtime: RecordingRuntime, run: RunView): Promise<Map<string, { agent: string; ms: number }>> {
  const times = new Map<string, { agent: string; ms: number }>();
  for (const step of run.steps) {
    if (step.agent === null || step.task_id === null)
      throw new Error(`step ${step.id} of ${run.id} has no agent or task id`);
    const result = await taskResult(runtime, step.agent, step.task_id);
    times.set(step.id, { agent: step.agent, ms: ms(result.finished_at) - ms(result.started_at) });
  }
  return times;
}

async function chainOverheads(client: MeshClient, runtime: RecordingRuntime): Promise<number[]> {
  const overheads: number[] = [];
  for (let r = 0; r < CHAIN_RUNS; r++) {
    const run = await runToEnd(client, 'bench-chain');
    const times = await taskTimes(runtime, run);
    for (let i = 1; i < run.steps.length; i++) {
      const step = run.steps[i]!;
      const gap = ms(step.finished_at) - ms(run.steps[i - 1]!.finished_at);
      overheads.push(gap - (times.get(step.id)?.ms ?? NaN));
    }
  }
  return overheads;
}

async function wideOverhead(
  client: MeshClient,
  runtime: RecordingRuntime,
): Promise<{ overhead: number; wall: number }> {
  const run = await runToEnd(client, 'bench-wide');
  const times = await taskTimes(runtime, run);
  const perAgent = new Map<string, number>();
  for (const [id, time] of times)
    if (id !== 'join') perAgent.set(time.agent, (perAgent.get(time.agent) ?? 0) + time.ms);
  const busiest = Math.max(...perAgent.values());
  const wall = ms(run.finished_at) - ms(run.created_at);
  return { overhead: wall - busiest - (times.get('join')?.ms ?? NaN), wall };
}

export async function workflowsBench(): Promise<BenchRow[]> {
  const fake = await startFakeProvider({ respond: () => ({ text: '{"ok":true}' }) });
  const project = makeProject({
    port: await freePort(),
    openaiBaseUrl: fake.openaiBaseUrl,
    agentsYaml: `agents:\n${AGENTS.map((a) => `  ${a}: { role: benchmark }\n`).join('')}`,
  });
  mkdirSync(join(project.dir, 'config', 'workflows'));
  writeFileSync(join(project.dir, 'config', 'workflows', 'bench-chain.yaml'), chainYaml());
  writeFileSync(join(project.dir, 'config', 'workflows', 'bench-wide.yaml'), wideYaml());
  const runtime = new RecordingRuntime(join(project.dir, 'agents-data'));
  const mesh = new Mesh({
    project: loadProject(project.dir),
    runtime,
    logger: createLogger({}, { write: () => undefined }),
    progress: () => undefined,
    onShutdownRequested: () => undefined,
  });
  try {
    const failed = (await mesh.start()).filter((r) => !r.ok);
    if (failed.length > 0) throw new Error(`bench agents failed to start: ${JSON.stringify(failed)}`);
    const client = MeshClient.connect(project.dir);
    // One warm-up run: the first tasks of each agent open its session store and SDK client.
    await runToEnd(client, 'bench-wide');
    const chain = await chainOverheads(client, runtime);
    const wide = await wideOverhead(client, runtime);
    return [
      [
        `workflow overhead per step (${CHAIN_STEPS}-step chain x${CHAIN_RUNS}, instant agent): step gap - task time, median`,
        `${median(chain).toFixed(1)} ms (p95 ${percentile(chain, 95).toFixed(1)})`,
        '<= 20 ms',
        median(chain) <= 20,
      ],
      [
        `workflow ${WIDE_STEPS}-step wide DAG + join over ${WIDE_AGENTS} agents: wall - (busiest agent's task time + join's)`,
        `${wide.overhead.toFixed(0)} ms (wall ${wide.wall.toFixed(0)} ms)`,
        'reported',
        true,
      ],
    ];
  } finally {
    await mesh.stop();
    await fake.close();
    project.cleanup();
  }
}
