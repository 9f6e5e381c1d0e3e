// Browser benchmarks against a real fleet (legion start -d, Docker, Chromium): the cold
// start (first browser_navigate in a fresh container: Chromium launched, then the page),
// warm navigations to a local test site (median and p99 of 20), the sizes of the agent
// image with and without the browser, and the memory of an agent with an open browser
// next to one without (the container's cgroup usage less page cache). Each chat turn is
// timed through the admin API; a turn with no browser (list_files) is the baseline that
// the fake model and the lane add to every figure.
import Docker from 'dockerode';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MeshClient } from '../src/cli/mesh-client.js';
import { projectId } from '../src/shared/state.js';
import { startFakeProvider } from '../tests/fakes/fake-provider.js';
import { freePort, legion, makeProject } from '../tests/helpers/project.js';
import { tearDownFleet } from '../tests/helpers/fleet.js';
import { median, percentile, type BenchRow } from './table.js';

const docker = new Docker();

async function memoryMb(container: string): Promise<number> {
  const stats = (await docker.getContainer(container).stats({ stream: false })) as {
    memory_stats: { usage?: number; stats?: { inactive_file?: number; cache?: number } };
  };
  const usage = stats.memory_stats.usage ?? 0;
  const cache = stats.memory_stats.stats?.inactive_file ?? stats.memory_stats.stats?.cache ?? 0;
  return (usage - cache) / 1024 / 1024;
}

export async function browserBench(): Promise<BenchRow[]> {
  const fake = await startFakeProvider();
  const site = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!DOCTYPE html><title>bench</title><h1>Bench page</h1><p>${req.url ?? ''}</p><a href="/next">next</a>`);
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  const sitePort = (site.address() as AddressInfo).port;
  const port = await freePort();
  const project = makeProject({
    port,
    openaiBaseUrl: fake.openaiBaseUrl,
    meshYaml: `mesh: { host: 127.0.0.1, port: ${port}, egress_port: ${await freePort()} }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n`,
    agentsYaml:
      'agents:\n  bench-surfer: { role: browses, browser: true, resources: { memory_limit: 1g, cpu_limit: 1 } }\n  bench-plain: { role: no browser }\n',
  });
  writeFileSync(
    join(project.dir, 'config', 'permissions.yaml'),
    `agents:\n  bench-surfer: { allowed_apis: [llm], can_use_browser: true, allowed_domains: ["127.0.0.1:${sitePort}"] }\n  bench-plain: { allowed_apis: [llm] }\n`,
  );
  const rows: BenchRow[] = [];
  try {
    const started = await legion(['start', '-d'], project.dir);
    if (started.code !== 0) throw new Error(`legion start -d failed: ${started.stderr}`);
    const client = MeshClient.connect(project.dir);
    const turn = async (agent: string, tool: string, args: unknown): Promise<number> => {
      const begin = performance.now();
      const done = await client.chat(agent, `call ${tool} ${JSON.stringify(args)}`, () => undefined);
      const elapsed = performance.now() - begin;
      if (done.type !== 'done' || !done.reply.includes(`tool ${tool} returned:`) || done.reply.includes('failed'))
        throw new Error(`${tool} did not work: ${JSON.stringify(done)}`);
      return elapsed;
    };
    const plainTurns: number[] = [];
    for (let i = 0; i < 5; i++) plainTurns.push(await turn('bench-surfer', 'list_files', {}));
    const baseline = median(plainTurns);
    const cold = await turn('bench-surfer', 'browser_navigate', { url: `http://127.0.0.1:${sitePort}/cold` });
    const warm: number[] = [];
    for (let i = 0; i < 20; i++)
      warm.push(await turn('bench-surfer', 'browser_navigate', { url: `http://127.0.0.1:${sitePort}/warm-${i}` }));
    rows.push(['chat turn without the browser (baseline), median of 5', `${baseline.toFixed(0)} ms`, 'reported', true]);
    rows.push([
      'browser cold start: first browser_navigate, fresh container',
      `${cold.toFixed(0)} ms (${(cold - baseline).toFixed(0)} ms over baseline)`,
      '< 10000 ms',
      cold < 10_000,
    ]);
    rows.push([
      'warm browser_navigate to a local site, median of 20',
      `${median(warm).toFixed(0)} ms (p99 ${percentile(warm, 99).toFixed(0)} ms)`,
      '< 1000 ms',
      median(warm) < 1000,
    ]);

    const id = projectId(project.dir);
    const surfer = await docker.getContainer(`legion-${id}-bench-surfer`).inspect();
    const plain = await docker.getContainer(`legion-${id}-bench-plain`).inspect();
    const size = async (image: string) => ((await docker.getImage(image).inspect()).Size / 1e6).toFixed(0);
    rows.push(['agent image size (no browser)', `${await size(plain.Config.Image)} MB`, 'reported', true]);
    rows.push([
      'agent image size (browser variant, Chromium)',
      `${await size(surfer.Config.Image)} MB`,
      'reported',
      true,
    ]);
    rows.push([
      'memory of an agent with an open browser',
      `${(await memoryMb(surfer.Id)).toFixed(0)} MB`,
      '< 1024 MB (its limit)',
      (await memoryMb(surfer.Id)) < 1024,
    ]);
    const pids =
      ((await docker.getContainer(surfer.Id).stats({ stream: false })) as { pids_stats?: { current?: number } })
        .pids_stats?.current ?? NaN;
    rows.push([
      'processes and threads of an agent with an open browser',
      String(pids),
      '< 512 (its pids limit)',
      pids < 512,
    ]);
    rows.push([
      'memory of an agent without a browser',
      `${(await memoryMb(plain.Id)).toFixed(0)} MB`,
      'reported',
      true,
    ]);
  } finally {
    await tearDownFleet(project);
    site.close();
    await fake.close();
    project.cleanup();
  }
  return rows;
}
