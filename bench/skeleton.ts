// Benchmarks of the walking skeleton with real Docker. Needs the agent image (built
// if missing; set LEGION_AGENT_BASE_IMAGE offline).
//   agent cold start: container create -> healthy, median of 5 at 0.5 CPU
//   legion start -d -> ready with 3 agents (image present)
//   legion stop with 3 agents
//   idle agent container memory (RSS)
import Docker from 'dockerode';
import { performance } from 'node:perf_hooks';
import { DockerRuntime } from '../src/mesh/runtime/docker.js';
import { projectVolumeName } from '../src/mesh/runtime/volumes.js';
import { imageSpec } from '../src/mesh/runtime/image.js';
import { agentHealthy } from '../src/mesh/runtime/agent-client.js';
import { startFakeProvider } from '../tests/fakes/fake-provider.js';
import { freePort, legion, makeProject } from '../tests/helpers/project.js';
import { removeProjectVolumes } from '../tests/helpers/docker.js';
import { projectId } from '../src/shared/state.js';

import { median, type BenchRow } from './table.js';

const docker = new Docker();
const rows: BenchRow[] = [];

async function coldStart(): Promise<void> {
  const runtime = new DockerRuntime({ projectId: 'bench', image: imageSpec(null) });
  await runtime.prepare((line) => process.stderr.write(`${line}\n`), 0);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const begin = performance.now();
    const running = await runtime.start({
      agent: 'bench-cold',
      env: { LEGION_AGENT: 'bench-cold', LEGION_MESH_URL: 'http://127.0.0.1:9' },
      secrets: { mesh_token: 'bench-cold.x', server_token: 'x' },
      memoryBytes: 512 * 1024 * 1024,
      cpus: 0.5,
      runtime: 'runc',
    });
    while (!(await agentHealthy(running.url, 200))) await new Promise((r) => setTimeout(r, 10));
    samples.push(performance.now() - begin);
    if (i === 4) await idleMemory(running.name);
    await runtime.stop('bench-cold');
  }
  await docker
    .getVolume(projectVolumeName('bench', 'bench-cold'))
    .remove()
    .catch(() => undefined);
  const value = median(samples);
  rows.unshift([
    'agent cold start (create -> healthy), median of 5',
    `${value.toFixed(0)} ms`,
    '<= 800 ms',
    value <= 800,
  ]);
}

interface MemoryStats {
  memory_stats: { usage?: number; stats?: Record<string, number> };
}

async function idleMemory(container: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 2000));
  const stats = (await docker.getContainer(container).stats({ stream: false })) as unknown as MemoryStats;
  // cgroup v1 reports rss, v2 reports anon; both are the process memory without page cache.
  const rss = stats.memory_stats.stats?.rss ?? stats.memory_stats.stats?.anon ?? stats.memory_stats.usage ?? NaN;
  const mb = rss / (1024 * 1024);
  rows.push(['idle agent container memory (RSS)', `${mb.toFixed(1)} MB`, '<= 80 MB', mb <= 80]);
}

async function fleetStartStop(): Promise<void> {
  const fake = await startFakeProvider();
  const project = makeProject({
    port: await freePort(),
    openaiBaseUrl: fake.openaiBaseUrl,
    agentsYaml: 'agents:\n  bench-a: { role: a }\n  bench-b: { role: b }\n  bench-c: { role: c }\n',
  });
  try {
    let begin = performance.now();
    const started = await legion(['start', '-d'], project.dir);
    const startMs = performance.now() - begin;
    if (started.code !== 0) throw new Error(`legion start -d failed: ${started.stderr}`);
    rows.push(['legion start -d -> ready, 3 agents', `${startMs.toFixed(0)} ms`, '<= 3000 ms', startMs <= 3000]);
    begin = performance.now();
    const stopped = await legion(['stop'], project.dir);
    const stopMs = performance.now() - begin;
    if (stopped.code !== 0) throw new Error(`legion stop failed: ${stopped.stderr}`);
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`legion.project=${projectId(project.dir)}`] },
    });
    rows.push([
      'legion stop, 3 agents',
      `${stopMs.toFixed(0)} ms${left.length ? ` (${left.length} left!)` : ''}`,
      '<= 2000 ms',
      stopMs <= 2000 && left.length === 0,
    ]);
  } finally {
    await removeProjectVolumes(projectId(project.dir));
    await fake.close();
    project.cleanup();
  }
}

export async function skeletonBench(): Promise<BenchRow[]> {
  await coldStart();
  await fleetStartStop();
  return rows;
}
