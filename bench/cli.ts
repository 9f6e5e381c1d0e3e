// What a user feels of the CLI: a process start (`legion --version`) against the
// floor of `node -e 0` measured in the same run, and `legion chat <agent> -m` end to
// end against the admin API's own answer to the same chat (MeshClient in-process),
// on a running one-agent fleet whose model is the fake provider (answers at once).
// Medians with p99; ratios to the floor.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { MeshClient } from '../src/cli/mesh-client.js';
import { projectId } from '../src/shared/state.js';
import { startFakeProvider } from '../tests/fakes/fake-provider.js';
import { CLI, freePort, legion, makeProject } from '../tests/helpers/project.js';
import { removeProjectVolumes } from '../tests/helpers/docker.js';
import { median, percentile, type BenchRow } from './table.js';

const run = promisify(execFile);

async function timed(times: number, once: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const begin = performance.now();
    await once();
    samples.push(performance.now() - begin);
  }
  return samples;
}

const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms (p99 ${percentile(xs, 99).toFixed(0)})`;

async function versionRows(): Promise<BenchRow[]> {
  const floor = await timed(20, () => run(process.execPath, ['-e', '0']));
  const version = await timed(20, () => run(process.execPath, [CLI, '--version']));
  const ratio = median(version) / median(floor);
  return [
    ['node -e 0 (floor)', ms(floor), '', true],
    ['legion --version', `${ms(version)}, ${ratio.toFixed(2)}x floor`, '<= 2x node -e 0', ratio <= 2],
  ];
}

async function chatRows(): Promise<BenchRow[]> {
  const fake = await startFakeProvider();
  const project = makeProject({
    port: await freePort(),
    openaiBaseUrl: fake.openaiBaseUrl,
    agentsYaml: 'agents:\n  bench-chat: { role: chat }\n',
  });
  try {
    const started = await legion(['start', '-d'], project.dir);
    if (started.code !== 0) throw new Error(`legion start -d failed: ${started.stderr}`);
    const client = MeshClient.connect(project.dir);
    const api = await timed(10, () => client.chat('bench-chat', 'hi', () => undefined));
    const cli = await timed(10, () =>
      run(process.execPath, [CLI, 'chat', 'bench-chat', '-m', 'hi'], { cwd: project.dir }),
    );
    const cliMs = median(cli);
    return [
      ['chat through the admin API (floor)', ms(api), '', true],
      [
        'legion chat <agent> -m end to end',
        `${ms(cli)}, +${(cliMs - median(api)).toFixed(0)} ms over the API`,
        '<= 350 ms',
        cliMs <= 350,
      ],
    ];
  } finally {
    await legion(['stop'], project.dir);
    await removeProjectVolumes(projectId(project.dir));
    await fake.close();
    project.cleanup();
  }
}

export async function cliBench(): Promise<BenchRow[]> {
  return [...(await versionRows()), ...(await chatRows())];
}
