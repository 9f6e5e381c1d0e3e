// LLM proxy overhead through the running mesh as it serves agents: `legion start -d` of a
// one-agent project whose provider is the fake (in its own process), then calls to the
// mesh's agent API (/mesh/llm/chat, with the agent's own token as the mesh minted it:
// auth, allowed_apis check, budget reserve + settle in mesh.db, the provider client)
// beside the same call made directly to the fake provider. Sequential latency (median
// and p99, non-streaming whole answer and streaming time to first token; samples of the
// two paths alternate, so drift hits both alike) and throughput at 10 connections.
// LEGION_BENCH_MESH_CPU_PROF=<dir> profiles the mesh process (mesh-cpu-profile.mjs; the
// profile is written to <dir> when `legion stop` ends it), to see where the time goes.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { readMeshInfo, projectId, statePaths } from '../src/shared/state.js';
import { readSse } from '../src/shared/sse.js';
import { removeProjectVolumes } from '../tests/helpers/docker.js';
import { freePort, legion, makeProject, REPO_ROOT } from '../tests/helpers/project.js';
import { median, percentile, type BenchRow } from './table.js';

const SAMPLES = 300;
const WARMUP = 50;
const CONNECTIONS = 10;
const LOAD_SECONDS = 5;
const KEY = 'sk-bench-proxy';
const MESSAGES = [
  { role: 'system' as const, content: 'You are bench, a benchmark agent.' },
  { role: 'user' as const, content: 'Summarize the quarterly report in three bullet points, please.' },
];

async function startFakeProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'tests', 'fakes', 'fake-provider-main.ts')],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, FAKE_PROVIDER_API_KEY: KEY },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (!child.stdout) throw new Error('the fake provider has no stdout');
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface MeshSide {
  url: string;
  token: string;
  pid: number;
  close: () => Promise<void>;
}

/** A running mesh with one agent; its agent API URL and the agent's mesh token (kept in
 *  mesh.db for adoption, which is where a bench on the host can read it). */
async function startMeshSide(fakeUrl: string): Promise<MeshSide> {
  const project = makeProject({
    port: await freePort(),
    openaiBaseUrl: `${fakeUrl}/v1`,
    apiKey: KEY,
    agentsYaml: 'agents:\n  bench-llm: { role: bench }\n',
  });
  const close = async () => {
    await legion(['stop'], project.dir);
    await removeProjectVolumes(projectId(project.dir));
    project.cleanup();
  };
  const profileDir = process.env.LEGION_BENCH_MESH_CPU_PROF;
  const started = await legion(
    ['start', '-d'],
    project.dir,
    profileDir ? { NODE_OPTIONS: `--import=${join(REPO_ROOT, 'bench', 'mesh-cpu-profile.mjs')}` } : {},
  );
  if (started.code !== 0) {
    await close();
    throw new Error(`legion start -d failed: ${started.stderr}`);
  }
  const info = readMeshInfo(project.dir);
  const db = new Database(join(statePaths(project.dir).dir, 'mesh.db'), { readonly: true });
  const row = db.prepare('SELECT mesh_token FROM agent_containers WHERE agent = ?').get('bench-llm') as
    | { mesh_token: string }
    | undefined;
  db.close();
  if (!info || !row) {
    await close();
    throw new Error('the mesh started but its agent API or the agent token is missing');
  }
  return { url: info.agent_api_url, token: row.mesh_token, pid: info.pid, close };
}

async function viaMesh(mesh: MeshSide, stream: boolean): Promise<number> {
  const begin = performance.now();
  const response = await fetch(`${mesh.url}/mesh/llm/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${mesh.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: MESSAGES, stream }),
  });
  if (!response.ok || !response.body) throw new Error(`mesh answered ${response.status}: ${await response.text()}`);
  if (!stream) {
    await response.json();
    return performance.now() - begin;
  }
  let firstToken = NaN;
  for await (const event of readSse(response.body)) {
    if (Number.isNaN(firstToken) && (event as { type?: string }).type === 'delta')
      firstToken = performance.now() - begin;
  }
  return firstToken;
}

async function direct(client: OpenAI, stream: boolean): Promise<number> {
  const begin = performance.now();
  if (!stream) {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
    return performance.now() - begin;
  }
  let firstToken = NaN;
  const chunks = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of chunks) {
    if (Number.isNaN(firstToken) && chunk.choices[0]?.delta.content) firstToken = performance.now() - begin;
  }
  return firstToken;
}

async function overhead(
  mesh: MeshSide,
  client: OpenAI,
  stream: boolean,
): Promise<{ meshMs: number[]; directMs: number[] }> {
  for (let i = 0; i < WARMUP; i++) {
    await viaMesh(mesh, stream);
    await direct(client, stream);
  }
  const meshMs: number[] = [];
  const directMs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    meshMs.push(await viaMesh(mesh, stream));
    directMs.push(await direct(client, stream));
  }
  return { meshMs, directMs };
}

function rows(label: string, { meshMs, directMs }: { meshMs: number[]; directMs: number[] }): BenchRow[] {
  const medianOverhead = median(meshMs) - median(directMs);
  const p99Overhead = percentile(meshMs, 99) - percentile(directMs, 99);
  const detail = `(mesh ${median(meshMs).toFixed(2)} / direct ${median(directMs).toFixed(2)} ms median)`;
  return [
    [
      `LLM proxy overhead, ${label}, median ${detail}`,
      `${medianOverhead.toFixed(2)} ms`,
      '<= 1 ms',
      medianOverhead <= 1,
    ],
    [`LLM proxy overhead, ${label}, p99`, `${p99Overhead.toFixed(2)} ms`, 'reported', true],
  ];
}

async function throughput(url: string, token: string, body: unknown): Promise<autocannon.Result> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: LOAD_SECONDS,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
  return result;
}

/** Autocannon's result and the CPU `pid` spent per completed call meanwhile. */
async function loadWithCpu(
  pid: number,
  url: string,
  token: string,
  body: unknown,
): Promise<{ result: autocannon.Result; cpuPerCallMs: number }> {
  const before = cpuMs(pid);
  const result = await throughput(url, token, body);
  return { result, cpuPerCallMs: (cpuMs(pid) - before) / result.requests.total };
}

async function throughputRows(mesh: MeshSide, fake: { url: string; pid: number }): Promise<BenchRow[]> {
  const direct = await loadWithCpu(fake.pid, `${fake.url}/v1/chat/completions`, KEY, {
    model: 'gpt-4o-mini',
    messages: MESSAGES,
  });
  const through = await loadWithCpu(mesh.pid, `${mesh.url}/mesh/llm/chat`, mesh.token, {
    messages: MESSAGES,
    stream: false,
  });
  const share = through.result.requests.average / direct.result.requests.average;
  const added = through.result.latency.p50 - direct.result.latency.p50;
  return [
    [
      `LLM proxy at ${CONNECTIONS} connections: direct to the fake provider (floor)`,
      `${direct.result.requests.average.toFixed(0)} calls/s, latency ${direct.result.latency.p50} ms (p99 ${direct.result.latency.p99})`,
      '',
      true,
    ],
    [
      `LLM proxy at ${CONNECTIONS} connections: through the running mesh`,
      `${through.result.requests.average.toFixed(0)} calls/s (${(share * 100).toFixed(0)}% of direct), latency ${through.result.latency.p50} ms (p99 ${through.result.latency.p99}), +${added} ms`,
      '>= 50% of direct',
      share >= 0.5,
    ],
    // CPU per call does not depend on what else the machine runs, so it compares runs on a
    // shared machine; the fake provider's own CPU per answer is the floor beside it.
    [
      `LLM proxy at ${CONNECTIONS} connections: mesh CPU per call (fake provider's per answer: ${direct.cpuPerCallMs.toFixed(3)} ms)`,
      `${through.cpuPerCallMs.toFixed(3)} ms (${(through.cpuPerCallMs / direct.cpuPerCallMs).toFixed(1)}x the fake's)`,
      'reported',
      true,
    ],
  ];
}

export async function llmProxyBench(): Promise<BenchRow[]> {
  const fake = await startFakeProcess();
  const mesh = await startMeshSide(fake.url);
  const client = new OpenAI({
    apiKey: KEY,
    baseURL: `${fake.url}/v1`,
    organization: null,
    project: null,
    maxRetries: 0,
  });
  try {
    return [
      ...rows('non-streaming call', await overhead(mesh, client, false)),
      ...rows('time to first streamed token', await overhead(mesh, client, true)),
      ...(await throughputRows(mesh, { url: fake.url, pid: fake.child.pid ?? 0 })),
    ];
  } finally {
    await mesh.close();
    fake.child.kill('SIGTERM');
  }
}
