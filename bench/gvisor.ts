// gVisor against runc, in the same run on the same machine: agent cold start (container
// create -> healthy, through the Docker runtime), then through a real mesh and the fake
// provider: a plain chat round trip, a chat turn that calls memory_search, and one that
// calls exec (`true`). Median and p99 for each runtime, and the runsc/runc ratio of the
// medians. Skipped (one row saying so) when Docker has no runsc registered.
import { performance } from 'node:perf_hooks';
import { DockerRuntime } from '../src/mesh/runtime/docker.js';
import { imageSpec } from '../src/mesh/runtime/image.js';
import { agentHealthy } from '../src/mesh/runtime/agent-client.js';
import { MeshClient } from '../src/cli/mesh-client.js';
import { startFakeProvider } from '../tests/fakes/fake-provider.js';
import { freePort, legion, makeProject } from '../tests/helpers/project.js';
import { docker, removeProjectVolumes } from '../tests/helpers/docker.js';
import { tearDownFleet } from '../tests/helpers/fleet.js';
import { median, percentile, type BenchRow } from './table.js';

const RUNTIMES = ['runc', 'runsc'] as const;
type Runtime = (typeof RUNTIMES)[number];
const COLD_STARTS = 5;
const TURNS = 30;
const WARMUP_TURNS = 3;

/** The cold starts' own project id: its volumes are the only ones they remove. */
const COLD_START_PROJECT = `bench-gvisor-${process.pid}`;

type Samples = Record<string, Record<Runtime, number[]>>;

function record(samples: Samples, what: string, runtime: Runtime, ms: number): void {
  samples[what] ??= { runc: [], runsc: [] };
  samples[what][runtime].push(ms);
}

/** Cold starts alternate between the runtimes, so a machine busier at one moment does not favour either. */
async function coldStarts(samples: Samples): Promise<void> {
  const containers = new DockerRuntime({ projectId: COLD_START_PROJECT, image: imageSpec(null) });
  await containers.prepare((line) => process.stderr.write(`${line}\n`), 0);
  try {
    for (let i = 0; i < COLD_STARTS; i++) {
      for (const runtime of RUNTIMES) {
        const agent = `bench-gv-${runtime}`;
        const begin = performance.now();
        const running = await containers.start({
          agent,
          env: { LEGION_AGENT: agent, LEGION_MESH_URL: 'http://127.0.0.1:9' },
          secrets: { mesh_token: `${agent}.x`, server_token: 'x' },
          memoryBytes: 512 * 1024 * 1024,
          cpus: 0.5,
          runtime,
        });
        while (!(await agentHealthy(running.url, 200))) await new Promise((r) => setTimeout(r, 10));
        record(samples, 'agent cold start (create -> healthy)', runtime, performance.now() - begin);
        await containers.stop(agent);
      }
    }
  } finally {
    for (const runtime of RUNTIMES) await containers.stop(`bench-gv-${runtime}`);
    await removeProjectVolumes(COLD_START_PROJECT);
  }
}

interface Fleet {
  runtime: Runtime;
  agent: string;
  project: ReturnType<typeof makeProject>;
}

/** One mesh per runtime, both running at once; turns alternate between them. */
async function turns(samples: Samples): Promise<void> {
  const fake = await startFakeProvider();
  const fleets: Fleet[] = [];
  try {
    for (const runtime of RUNTIMES) {
      const agent = `bench-gv-${runtime}`;
      const project = makeProject({
        port: await freePort(),
        openaiBaseUrl: fake.openaiBaseUrl,
        runtime,
        agentsYaml: `agents:\n  ${agent}: { role: measured }\n`,
      });
      fleets.push({ runtime, agent, project });
      const started = await legion(['start', '-d'], project.dir);
      if (started.code !== 0) throw new Error(`legion start -d under ${runtime} failed: ${started.stderr}`);
      await MeshClient.connect(project.dir).chat(
        agent,
        'call memory_save {"text":"the bench fact is kumquat"}',
        () => undefined,
      );
    }
    const clients = fleets.map((fleet) => ({ ...fleet, client: MeshClient.connect(fleet.project.dir) }));
    const kinds: [string, string][] = [
      ['chat round trip (plain turn)', 'hello'],
      ['chat turn with memory_search', 'call memory_search {"query":"kumquat"}'],
      ['chat turn with exec (`true`)', 'call exec {"command":"true"}'],
    ];
    for (const [what, message] of kinds) {
      for (let i = 0; i < WARMUP_TURNS + TURNS; i++) {
        for (const { runtime, agent, client } of clients) {
          // A fresh session each turn: the history (and so the work) is the same for every sample.
          await client.reset(agent);
          const begin = performance.now();
          const last = await client.chat(agent, message, () => undefined);
          const ms = performance.now() - begin;
          if (last.type !== 'done') throw new Error(`${what} under ${runtime} failed: ${JSON.stringify(last)}`);
          if (i >= WARMUP_TURNS) record(samples, what, runtime, ms);
        }
      }
    }
  } finally {
    for (const { project } of fleets) {
      await tearDownFleet(project);
      project.cleanup();
    }
    await fake.close();
  }
}

export async function gvisorBench(): Promise<BenchRow[]> {
  const runtimes = ((await docker.info()) as { Runtimes?: Record<string, unknown> }).Runtimes ?? {};
  if (!('runsc' in runtimes))
    return [
      [
        'gVisor (runsc) against runc',
        'skipped: Docker has no runsc runtime (legion doctor says how)',
        'reported',
        true,
      ],
    ];
  const samples: Samples = {};
  await coldStarts(samples);
  await turns(samples);
  return Object.entries(samples).map(([what, byRuntime]): BenchRow => {
    const figures = RUNTIMES.map(
      (r) => `${r} median ${median(byRuntime[r]).toFixed(0)} ms, p99 ${percentile(byRuntime[r], 99).toFixed(0)} ms`,
    );
    const ratio = median(byRuntime.runsc) / median(byRuntime.runc);
    return [
      `${what}, runsc vs runc (n=${byRuntime.runc.length})`,
      `${figures.join('; ')}; ratio ${ratio.toFixed(2)}x`,
      'reported',
      true,
    ];
  });
}
