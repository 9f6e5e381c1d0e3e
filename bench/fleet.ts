// Fleet start and stop as a user runs them: `legion start -d` (the image present) with
// 1, 3 and 10 agents as a scaling table, `legion stop` of 3 agents, and each agent's
// container create -> healthy as the mesh reports it ("agent x healthy (N ms)"), beside
// the floor of `docker run --rm <image> true` measured in the same run. Agents get the
// starter's limits (0.5 CPU). Medians with p99; ratios to the floor. One more row splits
// an agent's start: `docker run` of the image's own command until its server logs that it
// listens, with no mesh, which is the floor plus the agent server's boot.
import { execFile, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { imageSpec, imageTag } from '../src/mesh/runtime/image.js';
import { projectId } from '../src/shared/state.js';
import { startFakeProvider } from '../tests/fakes/fake-provider.js';
import { removeProjectVolumes } from '../tests/helpers/docker.js';
import { freePort, legion, makeProject } from '../tests/helpers/project.js';
import { median, percentile, type BenchRow } from './table.js';

const run = promisify(execFile);

/** Runs per fleet size: a 10-agent start is long on a small machine, so it runs once. */
const PLAN: { agents: number; runs: number; target: number | null }[] = [
  { agents: 1, runs: 3, target: 1500 },
  { agents: 3, runs: 3, target: 2500 },
  { agents: 10, runs: 1, target: null },
];
const STOP_TARGET_MS = 1000;
const HEALTHY_TARGET_MS = 600;

const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms (p99 ${percentile(xs, 99).toFixed(0)})`;

interface FleetRun {
  startMs: number;
  stopMs: number;
  healthyMs: number[];
  failure: string | null;
}

/** ms from `docker run` (0.5 CPU, tokens on stdin as the mesh gives them) to the agent's "agent_listening" log line. */
async function bootToListening(image: string): Promise<number> {
  const name = `legion-bench-boot-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const env = ['-e', 'LEGION_AGENT=bench-boot', '-e', 'LEGION_MESH_URL=http://127.0.0.1:9'];
  const args = ['run', '--rm', '-i', '--name', name, '--cpus', '0.5', '--network', 'none', ...env];
  const begin = performance.now();
  const child = spawn('docker', [...args, '--tmpfs', '/data:uid=1000', image], { stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.end(`${JSON.stringify({ mesh_token: 'bench-boot.x', server_token: 'x' })}\n`);
  try {
    return await new Promise<number>((resolve, reject) => {
      let seen = '';
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8');
        if (seen.includes('"agent_listening"')) resolve(performance.now() - begin);
      });
      child.once('exit', (code) =>
        reject(new Error(`the agent exited (${code}) before listening: ${seen.slice(-300)}`)),
      );
    });
  } finally {
    await run('docker', ['rm', '-f', name]).catch(() => undefined);
  }
}

async function oneFleet(agents: number, openaiBaseUrl: string): Promise<FleetRun> {
  const names = Array.from({ length: agents }, (_, i) => `bench-${i}`);
  const project = makeProject({
    port: await freePort(),
    openaiBaseUrl,
    agentsYaml: `agents:\n${names.map((n) => `  ${n}: { role: bench, resources: { memory_limit: 512m, cpu_limit: 0.5 } }`).join('\n')}\n`,
  });
  try {
    const begin = performance.now();
    const started = await legion(['start', '-d'], project.dir);
    const startMs = performance.now() - begin;
    // A fleet that did not come up is a row of its own (MISSED, with why), not the end of the bench.
    if (started.code !== 0)
      return { startMs, stopMs: NaN, healthyMs: [], failure: started.stderr.trim().slice(0, 200) };
    const healthyMs = [...started.stdout.matchAll(/^agent \S+ healthy \((\d+) ms\)$/gm)].map((m) => Number(m[1]));
    const stopBegin = performance.now();
    const stopped = await legion(['stop'], project.dir);
    const stopMs = performance.now() - stopBegin;
    if (stopped.code !== 0) throw new Error(`legion stop failed: ${stopped.stderr}`);
    return { startMs, stopMs, healthyMs, failure: null };
  } finally {
    await legion(['stop'], project.dir).catch(() => undefined);
    await removeProjectVolumes(projectId(project.dir));
    project.cleanup();
  }
}

export async function fleetBench(): Promise<BenchRow[]> {
  const image = imageTag(imageSpec(null));
  const floor: number[] = [];
  for (let i = 0; i < 5; i++) {
    const begin = performance.now();
    await run('docker', ['run', '--rm', '--network', 'none', image, 'true']);
    floor.push(performance.now() - begin);
  }
  const floorMs = median(floor);
  const rows: BenchRow[] = [[`docker run --rm <agent image> true (floor)`, ms(floor), '', true]];
  const boot: number[] = [];
  for (let i = 0; i < 5; i++) boot.push(await bootToListening(image));
  rows.push([
    'agent server boot: docker run -> listening (0.5 CPU)',
    `${ms(boot)}, ${(median(boot) / floorMs).toFixed(1)}x floor`,
    'part of create -> healthy',
    true,
  ]);
  const fake = await startFakeProvider();
  try {
    const healthy: number[] = [];
    const stopOf3: number[] = [];
    for (const { agents, runs, target } of PLAN) {
      const starts: number[] = [];
      let failure: string | null = null;
      for (let i = 0; i < runs && failure === null; i++) {
        const result = await oneFleet(agents, fake.openaiBaseUrl);
        failure = result.failure;
        starts.push(result.startMs);
        healthy.push(...result.healthyMs);
        if (agents === 3) stopOf3.push(result.stopMs);
      }
      const ratio = median(starts) / floorMs;
      rows.push([
        `legion start -d, ${agents} agent${agents === 1 ? '' : 's'}`,
        failure === null ? `${ms(starts)}, ${ratio.toFixed(1)}x floor` : `failed after ${ms(starts)}: ${failure}`,
        target === null ? 'scaling' : `<= ${target} ms`,
        failure === null && (target === null || median(starts) <= target),
      ]);
    }
    rows.push([
      'legion stop, 3 agents',
      `${ms(stopOf3)}, ${(median(stopOf3) / floorMs).toFixed(1)}x floor`,
      `<= ${STOP_TARGET_MS} ms`,
      median(stopOf3) <= STOP_TARGET_MS,
    ]);
    rows.push([
      'agent container create -> healthy (0.5 CPU)',
      `${ms(healthy)}, ${(median(healthy) / floorMs).toFixed(1)}x floor`,
      `<= ${HEALTHY_TARGET_MS} ms`,
      median(healthy) <= HEALTHY_TARGET_MS,
    ]);
    return rows;
  } finally {
    await fake.close();
  }
}
