// Coordination benchmarks against a real fleet (legion start -d, Docker): blackboard
// writes/s and reads/s through the agent API with an agent's own token (autocannon,
// 20 connections, 5 s each), with the mesh's own CPU time per request (from /proc, steadier
// than wall clock on a shared machine) and, as the floor, a bare node:http server on the
// same address answering the same load; publish -> delivered latency for one subscriber
// (operator publish until the subscriber's model call carries the event); and the mesh's
// RSS at idle, right after a burst of blackboard + agent API + LLM proxy load, and once
// it settled.
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startFakeProvider, type FakeProvider } from '../tests/fakes/fake-provider.js';
import { freePort, legion, makeProject } from '../tests/helpers/project.js';
import { projectId } from '../src/shared/state.js';
import { projectVolumeName } from '../src/mesh/runtime/volumes.js';
import { cpuMs, rssMb } from './proc.js';
import { median, percentile, type BenchRow } from './table.js';

const docker = new Docker();
const AGENTS = ['bench-writer', 'bench-sub'];
const CONNECTIONS = 20;
/** How long the mesh rests before its idle RSS is read, and again after the burst. */
const SETTLE_MS = 15_000;

// The floor: node:http alone, reading the body and answering a small JSON object.
const FLOOR_SERVER = `
const server = require('node:http').createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { const body = '{"key":"bench/counter","version":1}'; res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); res.end(body); });
});
server.listen(0, process.argv[1], () => console.log(server.address().port));`;

async function startFloorServer(host: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', FLOOR_SERVER, host], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `http://${host}:${chunk.toString().trim()}`, child };
}

/** The agent's mesh token, as the mesh stored it for adoption (containers never carry it in their environment). */
function agentToken(dir: string, agent: string): string {
  const db = new Database(join(dir, '.legion', 'mesh.db'), { readonly: true });
  try {
    const row = db
      .prepare<[string], { mesh_token: string }>('SELECT mesh_token FROM agent_containers WHERE agent = ?')
      .get(agent);
    if (!row) throw new Error(`no token stored for ${agent}`);
    return row.mesh_token;
  } finally {
    db.close();
  }
}

interface Load {
  result: autocannon.Result;
  /** CPU time the measured process spent per answered request, in microseconds. */
  cpuUsPerRequest: number;
}

/** autocannon at CONNECTIONS for 5 s, with the CPU time `pid` used meanwhile. */
async function load(url: string, token: string, body: unknown, pid: number): Promise<Load> {
  const cpuBefore = cpuMs(pid);
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: 5,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const cpuUsPerRequest = ((cpuMs(pid) - cpuBefore) * 1000) / Math.max(result.requests.total, 1);
  return { result, cpuUsPerRequest };
}

function loadRows(name: string, { result, cpuUsPerRequest }: Load, target: number, floor: Load): BenchRow[] {
  const failed = result.non2xx + result.errors;
  const ratio = result.requests.average / floor.result.requests.average;
  return [
    [
      `${name} (agent API, ${CONNECTIONS} conns)`,
      `${Math.round(result.requests.average)}/s${failed ? ` (${failed} failed!)` : ''}, ${(ratio * 100).toFixed(0)}% of floor`,
      `>= ${target}/s`,
      result.requests.average >= target && failed === 0,
    ],
    [
      `${name.split(' ')[0]} ${name.split(' ')[1]} latency`,
      `${result.latency.p50} ms (p99 ${result.latency.p99} ms)`,
      'p99 < 20 ms',
      result.latency.p99 < 20,
    ],
    [
      `${name.split(' ')[0]} ${name.split(' ')[1]} mesh CPU per request`,
      `${cpuUsPerRequest.toFixed(0)} µs`,
      'reported',
      true,
    ],
  ];
}

async function deliveryLatency(fake: FakeProvider, adminUrl: string, adminToken: string): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < 15; i++) {
    const marker = `bench-${i}-${Math.random().toString(36).slice(2)}`;
    const begin = performance.now();
    const response = await fetch(`${adminUrl}/api/pubsub/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'bench_topic', payload: { marker } }),
    });
    if (!response.ok) throw new Error(`publish failed: ${await response.text()}`);
    while (!fake.calls.some((c) => c.messages.some((m) => m.role === 'user' && m.content.includes(marker)))) {
      await new Promise((r) => setTimeout(r, 1));
    }
    samples.push(performance.now() - begin);
  }
  return samples;
}

export async function coordinationBench(): Promise<BenchRow[]> {
  const fake = await startFakeProvider();
  const project = makeProject({
    port: await freePort(),
    openaiBaseUrl: fake.openaiBaseUrl,
    agentsYaml:
      'agents:\n  bench-writer: { role: writes }\n  bench-sub: { role: listens, subscriptions: [bench_topic] }\n',
  });
  writeFileSync(
    join(project.dir, 'config', 'permissions.yaml'),
    'default:\n  allowed_apis: [llm]\n  blackboard_read: ["bench/**"]\n  blackboard_write: ["bench/**"]\n  can_subscribe: [bench_topic]\n',
  );
  const rows: BenchRow[] = [];
  try {
    // LEGION_BENCH_MESH_NODE_OPTIONS becomes the mesh process's NODE_OPTIONS, to profile it
    // (`--import <a module that starts the inspector's profiler>`; Node refuses --cpu-prof there).
    const meshOptions = process.env.LEGION_BENCH_MESH_NODE_OPTIONS;
    const meshEnv: Record<string, string> = meshOptions ? { NODE_OPTIONS: meshOptions } : {};
    const started = await legion(['start', '-d'], project.dir, meshEnv);
    if (started.code !== 0) throw new Error(`legion start -d failed: ${started.stderr}`);
    const info = JSON.parse(readFileSync(join(project.dir, '.legion', 'mesh.json'), 'utf8')) as {
      pid: number;
      agent_api_url: string;
      admin_url: string;
    };
    const adminToken = readFileSync(join(project.dir, '.legion', 'admin.token'), 'utf8').trim();
    const token = agentToken(project.dir, 'bench-writer');

    const host = new URL(info.agent_api_url).hostname;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const idleRss = rssMb(info.pid);

    const floorServer = await startFloorServer(host);
    let floor: Load;
    try {
      floor = await load(
        `${floorServer.url}/mesh/blackboard/get`,
        token,
        { key: 'bench/counter' },
        floorServer.child.pid!,
      );
    } finally {
      floorServer.child.kill();
    }
    const writes = await load(
      `${info.agent_api_url}/mesh/blackboard/set`,
      token,
      { key: 'bench/counter', value: { n: 1, note: 'benchmark' } },
      info.pid,
    );
    const reads = await load(`${info.agent_api_url}/mesh/blackboard/get`, token, { key: 'bench/counter' }, info.pid);
    rows.push(
      [
        `floor: bare node:http on the agent API's address (${CONNECTIONS} conns)`,
        `${Math.round(floor.result.requests.average)}/s, ${floor.result.latency.p50} ms (p99 ${floor.result.latency.p99} ms), ${floor.cpuUsPerRequest.toFixed(0)} µs CPU per request`,
        '',
        true,
      ],
      ...loadRows('blackboard writes/s', writes, 6000, floor),
      ...loadRows('blackboard reads/s', reads, 15000, floor),
    );

    // The rest of the burst: listing, and model calls through the LLM proxy.
    const others = [
      await load(`${info.agent_api_url}/mesh/blackboard/list`, token, { prefix: 'bench/' }, info.pid),
      await load(
        `${info.agent_api_url}/mesh/llm/chat`,
        token,
        { messages: [{ role: 'user', content: 'Summarize the report in three bullet points.' }], stream: false },
        info.pid,
      ),
    ];
    const failed = others.reduce((sum, { result }) => sum + result.non2xx + result.errors, 0);
    if (failed > 0) throw new Error(`${failed} requests of the burst failed`);
    const burstRss = rssMb(info.pid);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const settledRss = rssMb(info.pid);
    rows.push([
      `mesh RSS: idle / right after a load burst / ${SETTLE_MS / 1000} s later`,
      `${idleRss.toFixed(0)} / ${burstRss.toFixed(0)} / ${settledRss.toFixed(0)} MB (${(settledRss / idleRss).toFixed(2)}x idle)`,
      '<= 1.5x idle',
      settledRss <= 1.5 * idleRss,
    ]);

    const latencies = await deliveryLatency(fake, info.admin_url, adminToken);
    rows.push([
      'publish -> subscriber woken, median of 15',
      `${median(latencies).toFixed(1)} ms (p95 ${percentile(latencies, 95).toFixed(1)})`,
      'reported',
      true,
    ]);
  } finally {
    await legion(['stop'], project.dir);
    for (const agent of AGENTS)
      await docker
        .getVolume(projectVolumeName(projectId(project.dir), agent))
        .remove()
        .catch(() => undefined);
    await fake.close();
    project.cleanup();
  }
  return rows;
}
