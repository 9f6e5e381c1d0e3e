// Workflow orchestration overhead on a real fleet: `legion start -d` (the mesh process,
// one Docker container per agent) and a fake provider that answers at once.
// Per step: a chain of CHAIN_STEPS steps; for each step after the first, the gap
// between its finish and the previous step's finish (both as the mesh recorded them)
// minus the agent task's own run time (its TaskResult started_at -> finished_at, read
// from the agent's server in its container); what is left is the orchestrator's work
// and the hops between mesh and container: noticing the result, storing it, resolving
// the next step's templates, dispatching its task on the lane.
// Wide DAG: WIDE_STEPS independent steps spread over WIDE_AGENTS agents, then one
// join; overhead = the run's wall time (created_at -> finished_at) minus the time the
// agents had to spend anyway, which is the busiest agent's summed task time plus the
// join's task time (an agent runs one task at a time).
import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeshClient } from '../src/cli/mesh-client.js';
import { projectId } from '../src/shared/state.js';
import { TaskResultSchema, type TaskResult } from '../src/shared/wire/task.js';
import { FINAL_RUN_STATUSES, type RunView } from '../src/shared/wire/workflow.js';
import { startFakeProvider } from '../tests/fakes/fake-provider.js';
import { projectContainers, removeProjectVolumes } from '../tests/helpers/docker.js';
import { freePort, legion, makeProject } from '../tests/helpers/project.js';
import { median, percentile, type BenchRow } from './table.js';

const CHAIN_STEPS = 40;
const CHAIN_RUNS = 2;
const WIDE_STEPS = 50;
const WIDE_AGENTS = 5;
const AGENTS = Array.from({ length: WIDE_AGENTS }, (_, i) => `bench-wf-${i + 1}`);

type Servers = Map<string, { url: string; token: string }>;

/** Each agent's server (its container's address) and server token, as the mesh stored them. */
async function agentServers(dir: string): Promise<Servers> {
  const db = new Database(join(dir, '.legion', 'mesh.db'), { readonly: true });
  const servers: Servers = new Map();
  try {
    const tokens = db
      .prepare<[], { agent: string; server_token: string }>('SELECT agent, server_token FROM agent_containers')
      .all();
    const containers = await projectContainers(projectId(dir));
    for (const { agent, server_token } of tokens) {
      const container = containers.find((c) => c.Labels['legion.agent'] === agent);
      const ip = Object.values(container?.NetworkSettings.Networks ?? {})[0]?.IPAddress;
      if (!ip) throw new Error(`no container address for ${agent}`);
      servers.set(agent, { url: `http://${ip}:8400`, token: server_token });
    }
  } finally {
    db.close();
  }
  return servers;
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

async function taskResult(servers: Servers, agent: string, taskId: string): Promise<TaskResult> {
  const server = servers.get(agent);
  if (!server) throw new Error(`no agent server recorded for ${agent}`);
  const response = await fetch(`${server.url}/result/${encodeURIComponent(taskId)}`, {
    headers: { authorization: `Bearer ${server.token}` },
  });
  if (!response.ok) throw new Error(`GET /result/${taskId} on ${agent}: ${response.status} ${await response.text()}`);
  return TaskResultSchema.parse(await response.json());
}

const ms = (iso: string | null): number => (iso === null ? NaN : Date.parse(iso));

/** The agent's own run time of each step's task, by step id. */
async function taskTimes(servers: Servers, run: RunView): Promise<Map<string, { agent: string; ms: number }>> {
  const times = new Map<string, { agent: string; ms: number }>();
  for (const step of run.steps) {
    if (step.agent === null || step.task_id === null)
      throw new Error(`step ${step.id} of ${run.id} has no agent or task id`);
    const result = await taskResult(servers, step.agent, step.task_id);
    times.set(step.id, { agent: step.agent, ms: ms(result.finished_at) - ms(result.started_at) });
  }
  return times;
}

async function chainOverheads(client: MeshClient, servers: Servers): Promise<number[]> {
  const overheads: number[] = [];
  for (let r = 0; r < CHAIN_RUNS; r++) {
    const run = await runToEnd(client, 'bench-chain');
    const times = await taskTimes(servers, run);
    for (let i = 1; i < run.steps.length; i++) {
      const step = run.steps[i]!;
      const gap = ms(step.finished_at) - ms(run.steps[i - 1]!.finished_at);
      overheads.push(gap - (times.get(step.id)?.ms ?? NaN));
    }
  }
  return overheads;
}

async function wideOverhead(client: MeshClient, servers: Servers): Promise<{ overhead: number; wall: number }> {
  const run = await runToEnd(client, 'bench-wide');
  const times = await taskTimes(servers, run);
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
  try {
    const started = await legion(['start', '-d'], project.dir);
    if (started.code !== 0) throw new Error(`legion start -d failed: ${started.stderr}`);
    const client = MeshClient.connect(project.dir);
    const servers = await agentServers(project.dir);
    // One warm-up run: the first tasks of each agent open its session store and SDK client.
    await runToEnd(client, 'bench-wide');
    const chain = await chainOverheads(client, servers);
    const wide = await wideOverhead(client, servers);
    return [
      [
        `workflow overhead per step (${CHAIN_STEPS}-step chain x${CHAIN_RUNS}, instant agent, real containers): step gap - task time, median`,
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
    await legion(['stop'], project.dir);
    await removeProjectVolumes(projectId(project.dir));
    await fake.close();
    project.cleanup();
  }
}
